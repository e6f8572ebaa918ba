"""Two server processes on one data directory (reliability-security.md case 20).

Both run the real runtime (bench/killstorm_child.py) with the same settings: the same data
directory, webhook port and public URL. Only the first can listen on the port; the second says
so in its log and carries on. Each then starts 25 jobs at the same moment (50 concurrent writers
across two processes, while the first also stores callbacks and finishes jobs) and waits for
its own jobs, which it sees finish through the shared store. Then the first stops, and the
second finishes new jobs by polling.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from mcp_server_kie.domain import ApiFamily, Job, MediaKind
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.storage import NewJob, Store
from server_process import ROOT, ServerProcess
from support import SANDBOX_KEY, free_port

JOBS_EACH = 25


async def test_two_servers_share_one_data_directory(tmp_path: Path) -> None:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.5, create_rate_limit=10_000)
    async with serve_sandbox(config) as sandbox:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
        env.update(
            PYTHONPATH=os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p),
            KIE_API_KEY=SANDBOX_KEY,
            KIE_BASE_URL=sandbox.base_url,
            KIE_DATA_DIR=str(tmp_path / "data"),
            KIE_WEBHOOK_PORT=str(port),
            KIE_PUBLIC_URL=f"http://127.0.0.1:{port}",
            KIE_MEDIA_ALLOW_HOSTS="127.0.0.1",
        )
        logs = [tmp_path / "first.log", tmp_path / "second.log"]
        first = await ServerProcess.start(env, logs[0])
        servers = [first]
        try:
            assert (await first.event("ready"))["sidecar_url"] == f"http://127.0.0.1:{port}"
            second = await ServerProcess.start(env, logs[1])
            servers.append(second)
            assert (await second.event("ready"))["sidecar_url"] is None

            submitted = await asyncio.gather(
                *(s.ask(f"submit {JOBS_EACH}", "submitted") for s in servers)
            )
            own = [answer["jobs"] for answer in submitted]
            assert [len(ids) for ids in own] == [JOBS_EACH, JOBS_EACH]
            waited = await asyncio.gather(
                *(
                    s.ask(f"wait 30 {' '.join(ids)}", "waited")
                    for s, ids in zip(servers, own, strict=True)
                )
            )
            for answer, ids in zip(waited, own, strict=True):
                assert answer["status"] == dict.fromkeys(ids, "completed")

            # With the port's owner gone, kie's callbacks fail and the second server finishes
            # its new jobs by polling alone (the safety net starts 30 s after a job's start).
            assert await first.close() == 0
            late = (await second.ask("submit 2", "submitted"))["jobs"]
            answer = await second.ask(f"wait 50 {' '.join(late)}", "waited")
            assert answer["status"] == dict.fromkeys(late, "completed")
            assert await second.close() == 0
        finally:
            for server in servers:
                server.kill()

        first_log, second_log = (log.read_text() for log in logs)
        assert "webhook sidecar not started" in second_log
        assert "webhook sidecar not started" not in first_log
        for text in (first_log, second_log):
            assert "database is locked" not in text
            assert "SQLITE_BUSY" not in text
            assert "Traceback" not in text
            assert " ERROR " not in text

        # Every callback went to the first server, which stored it before answering 200; the
        # late jobs' callbacks found nobody listening.
        assert sum(1 for attempt in sandbox.callbacks if attempt.ok) == 2 * JOBS_EACH
        assert not [a for a in sandbox.callbacks if a.ok and any(j in a.url for j in late)]
        store = await Store.open(tmp_path / "data" / "kie.sqlite3")
        try:
            assert await store.db.integrity_check() == "ok"
            # Every delivery was acted on (processed rows go once their job has ended).
            assert await store.pending_deliveries() == []
            for job_id in own[0] + own[1] + late:
                job = await store.get_job(job_id)
                assert job is not None and len(job.assets) == 1
                [asset] = job.assets
                assert hashlib.sha256(Path(asset.path).read_bytes()).hexdigest() == asset.sha256
                assert asset.sha256 == sandbox.served_sha256(asset.source_url)
                finished = [e for e in await store.job_events(job_id) if e[2] == "completed"]
                assert len(finished) == 1
        finally:
            await store.close()


async def test_a_writer_reads_its_own_write_while_others_read(tmp_path: Path) -> None:
    """Under concurrent reads, a job just created is always visible to its creator (a read
    sharing another query's open snapshot used to miss it)."""
    store = await Store.open(tmp_path / "kie.sqlite3")
    done = asyncio.Event()

    async def keep_reading() -> None:
        while not done.is_set():
            await store.open_jobs()

    async def create(number: int) -> Job:
        return await store.create_job(
            NewJob(
                id=f"job_{number:024x}",
                kind=MediaKind.IMAGE,
                family=ApiFamily.MARKET,
                model="google/nano-banana",
                prompt="p",
                params={},
                callback_token_hash=None,
                callback_expected=False,
                idempotency_key=None,
                expected_credits=None,
            )
        )

    try:
        readers = [asyncio.create_task(keep_reading()) for _ in range(4)]
        created = await asyncio.gather(*(create(n) for n in range(300)), return_exceptions=True)
        done.set()
        await asyncio.gather(*readers)
        assert [c for c in created if not isinstance(c, Job)] == []
    finally:
        await store.close()
