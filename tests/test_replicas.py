"""Three replicas on one PostgreSQL behind haproxy (issue 13's end-to-end run).

The replicas are real server runtimes in child processes sharing one database and one bucket
on a real S3-compatible server (KIE_MEDIA_URL). kie's callbacks (from the sandbox) reach them
through haproxy, which sends each to a random replica. Jobs are started through every replica
at once under a daily credit limit that refuses some of them; one replica is killed with
SIGKILL mid-way and started again. Every started job must complete, once: one create per job
at kie, one object per output in the bucket (with the sandbox's sha256), one completion each,
and the limit never exceeded.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path

import httpx2

from mcp_server_kie.jobs.sweep import OrphanSweep
from mcp_server_kie.media import open_media_store
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.storage import Store
from media_backends import contents, stored
from postgres_server import new_database
from server_process import ServerProcess, child_env
from support import SANDBOX_KEY, eventually, free_port

CREATE = "/api/v1/jobs/createTask"
REPLICAS = 3
CALLS_EACH = 10  # 30 calls; the limit admits 24 (nano-banana costs 4 credits)
LIMIT = 96


def haproxy_config(port: int, replicas: list[int]) -> str:
    servers = "\n".join(
        f"    server r{n} 127.0.0.1:{p} check inter 500 fall 1 rise 1"
        for n, p in enumerate(replicas)
    )
    return f"""
global
    maxconn 500
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
    retry-on conn-failure empty-response response-timeout
frontend webhooks
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance random
    option httpchk GET /healthz
{servers}
"""


async def start_haproxy(
    folder: Path, port: int, replicas: list[int], config_text: str | None = None
) -> asyncio.subprocess.Process:
    """haproxy (scripts/install-postgres installs it) in the foreground on ``port``."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    config = folder / "haproxy.cfg"
    config.write_text(config_text or haproxy_config(port, replicas))
    with (folder / "haproxy.log").open("wb") as log:
        proxy = await asyncio.create_subprocess_exec(
            binary, "-db", "-f", str(config), stdout=log, stderr=log
        )

    async def answers() -> bool:
        try:
            async with httpx2.AsyncClient() as client:
                return (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        except httpx2.TransportError:
            return False

    await eventually(answers, timeout=20, what="haproxy to answer")
    return proxy


async def test_three_replicas_behind_haproxy_finish_every_job_once(
    tmp_path: Path, postgres_server: str, bucket_url: str
) -> None:
    database = new_database(postgres_server)
    ports = [free_port() for _ in range(REPLICAS)]
    front = free_port()
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=1.0, create_rate_limit=10_000)
    async with serve_sandbox(config) as sandbox:
        envs = [
            child_env(
                KIE_API_KEY=SANDBOX_KEY,
                KIE_BASE_URL=sandbox.base_url,
                KIE_DATA_DIR=str(tmp_path / "data"),
                KIE_DATABASE_URL=database,
                KIE_MEDIA_URL=bucket_url,  # (the AWS_* variables come from bucket_url)
                KIE_WEBHOOK_PORT=str(port),
                KIE_PUBLIC_URL=f"http://127.0.0.1:{front}",
                KIE_MEDIA_ALLOW_HOSTS="127.0.0.1",
                KIE_MAX_CREDITS_PER_DAY=str(LIMIT),
                KIE_CREATE_LIMIT="100",
                KIE_LEASE_SECONDS="3",
            )
            for port in ports
        ]
        replicas = [
            await ServerProcess.start(env, tmp_path / f"replica{n}.log")
            for n, env in enumerate(envs)
        ]
        proxy = None
        try:
            for replica in replicas:
                await replica.event("ready")
            proxy = await start_haproxy(tmp_path, front, ports)
            line = 'call {n} generate_image {{"prompt": "a lighthouse", "wait_seconds": 0}}'
            calls = [r.ask(line.format(n=CALLS_EACH), "called") for r in replicas]
            answers = await asyncio.gather(*calls)
            # Kill one replica mid-way (its jobs' callbacks and downloads are pending), then
            # start it again on the same settings.
            replicas[2].kill()
            await replicas[2].process.wait()
            replicas[2] = await ServerProcess.start(envs[2], tmp_path / "replica2-again.log")
            await replicas[2].event("ready")

            results = [result for answer in answers for result in answer["results"]]
            started = [r["job_id"] for r in results if "job_id" in r]
            refused = [r["error"] for r in results if "error" in r]
            assert len(started) == LIMIT // 4 and len(refused) == len(results) - LIMIT // 4
            assert all("KIE_MAX_CREDITS_PER_DAY" in text for text in refused)
            # A waiter on the first replica sees every job finish, wherever it finished.
            waited = await replicas[0].ask(f"wait 90 {' '.join(started)}", "waited")
            assert waited["status"] == dict.fromkeys(started, "completed")
        finally:
            for replica in replicas:
                replica.kill()
            if proxy is not None:
                proxy.kill()
                await proxy.wait()

    assert sandbox.count(CREATE) == len(started)  # exactly one create per job
    assert len({t.task_id for t in sandbox.tasks.values()}) == len(started)
    store = await Store.connect(database)
    media = open_media_store(bucket_url, tmp_path / "unused", tmp_path / "staging")
    try:
        assert await store.credits_committed_since(0) <= LIMIT
        locations = set()
        for job_id in started:
            job = await store.get_job(job_id)
            assert job is not None and len(job.assets) == 1
            [asset] = job.assets
            assert asset.sha256 == sandbox.served_sha256(asset.source_url)
            data = await stored(media, asset.path)
            assert data is not None and hashlib.sha256(data).hexdigest() == asset.sha256
            locations.add(asset.path)
            if asset.thumbnail_path:
                locations.add(asset.thumbnail_path)
            events = [e[2] for e in await store.job_events(job_id)]
            assert events.count("completed") == 1
        # A file the killed replica finished writing but never recorded stays behind under
        # its own write-once name until the sweep (run here as a replica would once such
        # files are old enough) removes it; then each asset exists exactly once.
        await OrphanSweep(store, media, min_age=0).sweep()
        assert set(await contents(media)) == locations
    finally:
        await store.close()
        await media.aclose()
    downloads = [r for r in sandbox.requests if r.method == "GET" and "/cdn/" in r.path]
    assert len(downloads) >= len(started)  # (a download cut off by the kill is fetched again)
    assert sum(1 for attempt in sandbox.callbacks if attempt.ok) >= len(started) // 2
    for log in tmp_path.glob("replica*.log"):
        text = log.read_text()
        assert "Traceback" not in text and " ERROR " not in text, log.name
