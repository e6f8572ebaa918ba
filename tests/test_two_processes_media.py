"""Two server processes on one data directory download the same job; one stops mid-way.

Both poll kie (no callbacks), so both may download a finished job. A gate in front of the
sandbox holds the first request for a job's second file: process B has then stored the first
file and waits on the second when it is stopped. Process A, started meanwhile on the same
folder, finds the open job, downloads both files and completes it. B's stop must remove only
what B wrote: every file the completed job names is still there, and ``/media`` serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import uvicorn
from starlette.types import Receive, Scope, Send

from mcp_server_kie.domain import Job
from mcp_server_kie.media import open_media_store
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.storage import Store
from media_backends import contents, stored
from support import SANDBOX_KEY, eventually
from test_two_processes import ROOT, ServerProcess

_SECOND_FILE = re.compile(r"^/cdn/[^/]+/1\.(?:png|jpg)$")


class Gate:
    """A loopback proxy to the sandbox that holds the first GET of every job's second file
    until ``opened`` is set (and counts the requests it holds)."""

    def __init__(self, upstream: str) -> None:
        self._http = httpx2.AsyncClient(base_url=upstream, timeout=30)
        self.opened = asyncio.Event()
        self.held = asyncio.Event()
        self._seen: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        path = scope["path"]
        if _SECOND_FILE.match(path) and path not in self._seen:
            self._seen.add(path)
            self.held.set()
            await self.opened.wait()
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        query = scope["query_string"].decode()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"host",)]
        answer = await self._http.request(
            scope["method"], path + (f"?{query}" if query else ""), headers=headers, content=body
        )
        await send(
            {
                "type": "http.response.start",
                "status": answer.status_code,
                "headers": [
                    (k.encode(), v.encode())
                    for k, v in answer.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.content})


class _Quiet(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


@contextlib.asynccontextmanager
async def serve_gate(gate: Gate) -> AsyncIterator[str]:
    config = uvicorn.Config(
        gate, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
    )
    server = _Quiet(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag only
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        gate.opened.set()
        server.should_exit = True
        await task
        await gate._http.aclose()


async def test_a_stopping_process_never_deletes_another_ones_finished_files(
    tmp_path: Path, media_url: str | None
) -> None:
    media = open_media_store(media_url, tmp_path / "data" / "media", tmp_path / "data" / "staging")
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.2, create_rate_limit=10_000)
    async with serve_sandbox(config) as sandbox:
        gate = Gate(sandbox.base_url)
        async with serve_gate(gate) as gate_url:
            sandbox.set_base_url(gate_url)  # result links point at the gate
            env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
            env.update(
                PYTHONPATH=os.pathsep.join(
                    p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p
                ),
                KIE_API_KEY=SANDBOX_KEY,
                KIE_BASE_URL=gate_url,
                KIE_DATA_DIR=str(tmp_path / "data"),
                KIE_WEBHOOK_PORT="0",
                KIE_MEDIA_ALLOW_HOSTS="127.0.0.1",
            )
            if media_url is not None:
                env["KIE_MEDIA_URL"] = media_url
            stopping = await ServerProcess.start(env, tmp_path / "b.log")
            finishing: ServerProcess | None = None
            try:
                await stopping.event("ready")
                command = "submit 1 image wan/2-7-image num_images=2"
                answer = await stopping.ask(command, "submitted")
                [job_id] = answer["jobs"]
                async with asyncio.timeout(30):
                    await gate.held.wait()  # B has stored file 0 and waits for file 1

                finishing = await ServerProcess.start(env, tmp_path / "a.log")
                sidecar_url = (await finishing.event("ready"))["sidecar_url"]
                # A waits for the job while B holds its lease; B then stops with its download
                # hanging, and A takes the job over and finishes it.
                waiting = asyncio.create_task(finishing.ask(f"wait 45 {job_id}", "waited"))
                assert await stopping.close() == 0  # B stops while its download hangs
                waited = await waiting
                assert waited["status"] == {job_id: "completed"}

                store = await Store.open(tmp_path / "data" / "kie.sqlite3")
                try:  # A made the previews after completing the job (and waking the waiter)

                    async def previewed() -> Job | None:
                        job = await store.get_job(job_id)
                        pending = job is None or any(a.preview_pending for a in job.assets)
                        return None if pending else job

                    job = await eventually(previewed, what="the previews")
                finally:
                    await store.close()
                assert job is not None and len(job.assets) == 2
                async with httpx2.AsyncClient(base_url=sidecar_url) as http:
                    for asset in job.assets:
                        data = await stored(media, asset.path)
                        assert data and hashlib.sha256(data).hexdigest() == asset.sha256
                        assert asset.thumbnail_path is not None
                        assert await stored(media, asset.thumbnail_path)
                        served = await http.get(f"/media/{asset.id}")
                        assert served.status_code == 200
                        assert served.content == data
                        thumb = await http.get(f"/media/{asset.id}/thumbnail")
                        assert thumb.status_code == 200
                assert await finishing.close() == 0
            finally:
                stopping.kill()
                if finishing is not None:
                    finishing.kill()
        # A finished the job B had left half done; neither logged an error.
        first, second = ((tmp_path / f"{n}.log").read_text() for n in ("a", "b"))
        assert "completed with 2 file(s)" in first and "completed with" not in second
        for text in (first, second):
            assert "Traceback" not in text and " ERROR " not in text
        # Nothing but the job's own files (and their previews) is left in its folder: the
        # stopped process removed its temporary and its own published files.
        expected = sorted(n for a in job.assets for n in (a.path, a.thumbnail_path or ""))
        [folder] = {a.path.removeprefix(media.root + "/").rsplit("/", 1)[0] for a in job.assets}
        assert await contents(media, folder) == expected
        assert media.sweep() == 0
