"""Bounded waits in every host: a handle on time, progress that only goes up, a cancelled call
that leaves the paid job running, and results small enough for any client."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path
from typing import Any

import anyio
import jsonschema
from mcp import Client

from mcp_server_kie.domain import TaskState
from mcp_server_kie.server.app import build_server
from support import eventually, sandbox_and_runtime


async def test_slow_video_returns_a_handle_in_time_with_rising_progress(tmp_path: Path) -> None:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with sandbox_and_runtime(tmp_path, video_seconds=30) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            started = time.monotonic()
            result = await client.call_tool(
                "generate_video",
                {"prompt": "a glacier", "wait_seconds": 4},
                progress_callback=on_progress,
            )
            elapsed = time.monotonic() - started
    assert not result.is_error
    assert elapsed < 4 + 10, elapsed  # the video takes 30 s
    handle = result.structured_content
    assert handle is not None and handle["status"] == "processing"
    assert "get_status" in handle["next_step"]
    values = [value for value, _total, _message in progress]
    assert len(values) >= 2, progress
    assert all(later > earlier for earlier, later in itertools.pairwise(values))
    assert all(total == 4 for _value, total, _message in progress)
    states = {state.value for state in TaskState}
    assert all(message and message.split(": ")[-1] in states for *_r, message in progress)


async def test_cancelling_the_call_leaves_the_job_running_to_completion(tmp_path: Path) -> None:
    first_progress = asyncio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        first_progress.set()

    async with sandbox_and_runtime(tmp_path, video_seconds=3) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            with anyio.move_on_after(20) as scope:
                async with anyio.create_task_group() as group:

                    async def start() -> None:
                        await client.call_tool(
                            "generate_video",
                            {"prompt": "fireworks", "wait_seconds": 30},
                            progress_callback=on_progress,
                        )

                    group.start_soon(start)
                    await first_progress.wait()
                    group.cancel_scope.cancel()  # the user pressed stop
            assert not scope.cancelled_caught
            jobs = await eventually(
                lambda: runtime.engine.store.open_jobs(), what="the job to be recorded"
            )
            job_id = jobs[0].id
            done = await eventually(
                lambda: _completed(runtime, job_id), timeout=20, what="the job to complete"
            )
            assert Path(done.assets[0].path).is_file()
        assert len(sandbox.tasks) == 1


async def _completed(runtime: Any, job_id: str) -> Any:
    job = await runtime.engine.get(job_id)
    return job if job and job.status.value == "completed" else None


async def test_finished_image_result_is_small_and_matches_its_schema(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            schema = {t.name: t for t in (await client.list_tools()).tools}[
                "generate_image"
            ].output_schema
            finished = await client.call_tool(
                "generate_image", {"prompt": "a lantern " * 40, "wait_seconds": 20}
            )
            assert finished.structured_content is not None
            assert finished.structured_content["status"] == "completed"
            job_id = finished.structured_content["job_id"]

            async def with_thumbnail() -> Any:
                # The job completes before its preview is made; a later result carries it.
                again = await client.call_tool("get_status", {"job_id": job_id})
                return again if any(b.type == "image" for b in again.content) else None

            result = await eventually(with_thumbnail, what="the result with its thumbnail")
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["status"] == "completed"
    jsonschema.validate(result.structured_content, schema)  # type: ignore[arg-type]
    text = result.content[0].text  # type: ignore[union-attr]
    assert len(text.encode()) < 1024, text
    total = len(json.dumps(result.model_dump(mode="json", by_alias=True)).encode())
    assert total < 150 * 1024, total
    kinds = [block.type for block in result.content]
    outputs = result.structured_content["outputs"]
    assert kinds.count("resource_link") == len(outputs)
    assert kinds.count("image") == len(outputs)  # each output's thumbnail, inline
    thumbnail = next(block for block in result.content if block.type == "image")
    assert thumbnail.mime_type == "image/jpeg"  # type: ignore[union-attr]
