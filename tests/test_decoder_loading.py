"""The decoders a result needs load in the background once its job has started (issue 16).

Importing PyAV takes ~50-100 ms and Pillow ~25 ms, holding the interpreter all the while.
Left to the first result, that import delays its job's completion and every callback being
acknowledged meanwhile (in the ingest benchmark, the first video result's import landed in
the middle of the burst). Each check runs a real server runtime in a fresh interpreter, so
that nothing is loaded before the job starts; the task at the sandbox takes far longer than
the check, so no result (and no first use) can load them instead.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from support import SANDBOX_KEY, free_port

CHILD = """
import asyncio, json, sys, time
from pathlib import Path
from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, validate_request
from mcp_server_kie.config import Settings
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.server.runtime import open_runtime

WATCHED = ("av", "PIL.Image")


def loaded():
    return [name for name in WATCHED if name in sys.modules]


async def main(key, base_url, data_dir, port, kind):
    kind = MediaKind(kind)
    settings = Settings(
        api_key=key, base_url=base_url, data_dir=Path(data_dir), webhook_port=int(port)
    )
    async with open_runtime(settings) as runtime:
        before = loaded()
        spec = get_model(DEFAULT_MODEL[kind], kind)
        job = await runtime.engine.submit(kind, validate_request(spec, "a lighthouse", {}), "x")
        want = {"image": ["PIL.Image"], "video": ["av", "PIL.Image"], "audio": ["av"]}[kind.value]
        deadline = time.monotonic() + 20
        while not set(want) <= set(loaded()) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        current = await runtime.engine.get(job.id)
        print(json.dumps({"before": before, "after": loaded(), "status": current.status.value}))


asyncio.run(main(*sys.argv[1:]))
"""


async def loaded_after_submit(kind: str, data_dir: Path) -> dict[str, object]:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=600, video_seconds=600)
    async with serve_sandbox(config) as sandbox:
        child = await asyncio.create_subprocess_exec(
            *(sys.executable, "-c", CHILD, SANDBOX_KEY, sandbox.base_url, str(data_dir)),
            *(str(free_port()), kind),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # the sandbox answers it from this event loop meanwhile
        out, err = await asyncio.wait_for(child.communicate(), timeout=90)
    assert child.returncode == 0, err.decode()[-2000:]
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("video", ["av", "PIL.Image"]), ("image", ["PIL.Image"]), ("audio", ["av"])],
)
async def test_a_started_job_loads_the_decoders_its_result_needs(
    kind: str, expected: list[str], tmp_path: Path
) -> None:
    seen = await loaded_after_submit(kind, tmp_path)
    assert seen["before"] == [], "the runtime loaded a decoder before any job: nothing to show"
    assert seen["status"] == "processing", "the result arrived: its own use could have loaded it"
    assert seen["after"] == expected
