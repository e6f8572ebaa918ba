"""Question 3, provider calls per job: kie.ai requests (create, status, download-url) per
completed job, with webhooks and by polling, for a 10 s image and a 90 s video.

Four sandboxes, one per (mode, kind), each counting the requests it receives, run side by side
at real speed (the reconciler's schedule is in real seconds, so a sped-up simulator clock would
understate polling). Jobs start through the MCP client and are awaited with get_status, which
reads the store and never calls kie. The simulator's create limit (20 per 10 s) stays on.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from harness import HMAC_KEY, KEY, Result, Row, emit, free_port, parse_args, server_settings, setup
from mcp import Client

from mcp_server_kie.sandbox import FAMILIES, Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.sandbox.cdn import CDN_PREFIX
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import open_runtime, run

DOWNLOAD_URL_PATH = "/api/v1/common/download-url"


def categorise(sandbox: Sandbox) -> Counter[str]:
    """The sandbox's request log as create / status / download-url / other (the CDN's file
    downloads are not API calls and are left out)."""
    creates = {family.create_path for family in FAMILIES}
    records = {family.record_path for family in FAMILIES}
    counts: Counter[str] = Counter()
    for request in sandbox.requests:
        if request.path in creates:
            counts["create"] += 1
        elif request.path in records:
            counts["status"] += 1
        elif request.path == DOWNLOAD_URL_PATH:
            counts["download-url"] += 1
        elif not request.path.startswith(CDN_PREFIX):
            counts["other"] += 1
    return counts


async def run_case(
    *, webhooks: bool, tool: str, jobs: int, seconds: float, data_dir: Path
) -> dict[str, Any]:
    config = SandboxConfig(
        api_key=KEY, image_seconds=seconds, video_seconds=seconds, hmac_key=HMAC_KEY
    )
    async with serve_sandbox(config) as sandbox:
        port = free_port()
        public_url = f"http://127.0.0.1:{port}" if webhooks else None
        settings = server_settings(data_dir, sandbox.base_url, port=port, public_url=public_url)
        async with open_runtime(settings) as runtime, Client(build_server(runtime.tools)) as client:

            async def one(index: int) -> str:
                started = await client.call_tool(
                    tool, {"prompt": f"provider calls {index}", "wait_seconds": 0}
                )
                assert started.structured_content is not None, started.content
                job_id = started.structured_content["job_id"]
                while True:
                    result = await client.call_tool(
                        "get_status", {"job_id": job_id, "wait_seconds": 50}
                    )
                    assert result.structured_content is not None, result.content
                    status = str(result.structured_content["status"])
                    if status in ("completed", "failed"):
                        return status

            statuses = await asyncio.gather(*(one(i) for i in range(jobs)))
        counts = categorise(sandbox)
    completed = statuses.count("completed")
    return {"completed": completed, "jobs": jobs, "counts": dict(counts)}


def per_job(case: dict[str, Any]) -> float:
    counts: dict[str, int] = case["counts"]
    completed: int = case["completed"]
    return sum(counts.values()) / max(completed, 1)


def breakdown(case: dict[str, Any]) -> str:
    counts, done = case["counts"], max(case["completed"], 1)
    parts = [f"{name} {counts.get(name, 0) / done:g}" for name in ("create", "status")]
    parts.append(f"download-url {counts.get('download-url', 0) / done:g}")
    if counts.get("other"):
        parts.append(f"other {counts['other'] / done:g}")
    return ", ".join(parts)


async def main() -> None:
    args = parse_args(__doc__)
    started = setup()
    jobs = 1 if args.smoke else 5
    kinds = {"image": 0.5, "video": 1.0} if args.smoke else {"image": 10.0, "video": 90.0}
    tools = {"image": "generate_image", "video": "generate_video"}
    result = Result(3, "Provider calls per job", args.smoke)
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as tmp:
        cases = {
            (mode, kind): run_case(
                webhooks=mode == "webhooks",
                tool=tools[kind],
                jobs=jobs,
                seconds=seconds,
                data_dir=Path(tmp, f"{mode}-{kind}"),
            )
            for mode in ("webhooks", "polling")
            for kind, seconds in kinds.items()
        }
        outcomes = dict(zip(cases, await asyncio.gather(*cases.values()), strict=True))
    for kind, seconds in kinds.items():
        hook, poll = outcomes["webhooks", kind], outcomes["polling", kind]
        result.rows.append(
            Row(
                f"kie requests per completed {seconds:g} s {kind}, webhooks "
                f"({breakdown(hook)}; {hook['completed']}/{hook['jobs']} completed)",
                round(per_job(hook), 2),
                "requests",
                f"polling ({breakdown(poll)}; {poll['completed']}/{poll['jobs']} completed)",
                round(per_job(poll), 2),
                round(per_job(poll) / per_job(hook), 1),
                "polling ÷ webhooks",
            )
        )
    result.notes.append(
        f"{jobs} job(s) per mode and kind, all at once; generation takes "
        + " and ".join(f"{s:g} s ({k})" for k, s in kinds.items())
        + " on the simulator. With webhooks a job costs its create and one verifying status "
        "read; polling reads status on the reconciler's schedule (every 2-3 s for the first "
        "30 s, then every 5-10 s)."
    )
    result.details = {f"{mode}/{kind}": case for (mode, kind), case in outcomes.items()}
    emit(result, started)


if __name__ == "__main__":
    run(main())
