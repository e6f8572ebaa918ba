"""The reconciler and kie.ai's limits, against the sandbox over real HTTP on 127.0.0.1.

Cases 8, 9 and 10 of reference/reliability-security.md §6: a callback that never comes, a
status endpoint that rate-limits, errors, resets and stalls (or never recovers), and creates
that time out or are refused. Plus the client-side create limiter and tasks kie does not know.
Schedules, windows and deadlines are shortened through the constructors so the file stays fast.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import statistics
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client

from mcp_server_kie.catalog import get_model, validate_request
from mcp_server_kie.domain import ApiFamily, Job, JobStatus, MediaKind
from mcp_server_kie.jobs import Engine, OutputStore, Poller
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.limits import KieLimits
from mcp_server_kie.media import Fetcher
from mcp_server_kie.media.local import LocalMediaStore
from mcp_server_kie.media.ssrf import SsrfPolicy, origin_of
from mcp_server_kie.sandbox import RecordFault, Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import open_runtime
from mcp_server_kie.storage import MediaQuery, NewJob, Store
from support import SANDBOX_KEY, eventually, settings_for

CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"
FAST = (0.3, 0.45)  # the test schedule: every 0.3-0.45 s


def fast_interval(age: float) -> float:
    return random.uniform(*FAST)


@asynccontextmanager
async def reconciler(
    tmp_path: Path,
    config: SandboxConfig,
    *,
    timeout: float = 5.0,
    limits: KieLimits | None = None,
    public_url: str | None = None,
    **poller: Any,
) -> AsyncIterator[tuple[Sandbox, Engine]]:
    """A sandbox, and an engine with its poller, wired as the runtime wires them."""
    async with AsyncExitStack() as stack:
        sandbox = await stack.enter_async_context(serve_sandbox(config))
        store = await Store.open(tmp_path / "kie.sqlite3")
        stack.push_async_callback(store.close)
        http = httpx2.AsyncClient(timeout=httpx2.Timeout(timeout, connect=5.0))
        stack.push_async_callback(http.aclose)
        kie = KieClient(http, api_key=SANDBOX_KEY, base_url=sandbox.base_url, limits=limits)
        policy = SsrfPolicy(allow_hosts=frozenset({origin_of(sandbox.base_url)}))
        fetcher = await stack.enter_async_context(Fetcher(policy))
        outputs = OutputStore(fetcher, LocalMediaStore(tmp_path / "media"))
        engine = Engine(store, kie, outputs, public_url=public_url)
        stack.push_async_callback(engine.close)
        task = asyncio.create_task(Poller(engine, **poller).run())
        stack.callback(task.cancel)
        yield sandbox, engine


def sandbox_config(**overrides: Any) -> SandboxConfig:
    return SandboxConfig(api_key=SANDBOX_KEY, **{"image_seconds": 0.2, **overrides})


async def submit(engine: Engine, prompt: str) -> Job:
    spec = get_model("google/nano-banana", MediaKind.IMAGE)
    return await engine.submit(MediaKind.IMAGE, validate_request(spec, prompt, {}), prompt)


def query_times(sandbox: Sandbox, path: str = RECORD) -> list[float]:
    return [request.time for request in sandbox.requests if request.path == path]


async def test_a_burst_of_creates_queues_under_the_limit_instead_of_failing() -> None:
    limit, window = 4, 0.5  # kie's 20 per 10 s, scaled down
    config = sandbox_config(create_rate_limit=limit, create_rate_window=window)
    async with serve_sandbox(config) as sandbox, httpx2.AsyncClient(timeout=5.0) as http:
        kie = KieClient(
            http,
            api_key=SANDBOX_KEY,
            base_url=sandbox.base_url,
            limits=KieLimits(creates=limit, create_window=window),
        )
        creates = [
            kie.create_task(ApiFamily.MARKET, "google/nano-banana", {"prompt": f"fox {n}"}, None)
            for n in range(25)
        ]
        task_ids = await asyncio.gather(*creates)
    assert len(set(task_ids)) == 25  # all succeeded: the sandbox refuses the 5th in a window
    times = sorted(query_times(sandbox, CREATE))
    assert len(times) == 25
    busiest = max(sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times))
    assert busiest <= limit
    assert times[-1] - times[0] >= (25 // limit - 1) * window  # the burst really was spread


async def test_a_create_kie_rate_limits_anyway_waits_a_window_and_is_sent_once_more(
    tmp_path: Path,
) -> None:
    """Another process on the same key can use up kie's window: a 429 created nothing, so the
    create is held back for the window and sent once more."""
    config = sandbox_config(create_rate_limit=2, create_rate_window=1.0)
    limits = KieLimits(creates=20, create_window=1.0)
    async with reconciler(tmp_path, config, limits=limits, interval=fast_interval) as (
        sandbox,
        engine,
    ):
        jobs = await asyncio.gather(*(submit(engine, f"kite {n}") for n in range(3)))
        times = query_times(sandbox, CREATE)
    assert all(job.status is not JobStatus.FAILED and job.task_id for job in jobs)
    assert len(sandbox.tasks) == 3
    assert len(times) == 4  # three creates and one retry of the refused one
    assert times[3] - times[0] >= 1.0


async def test_case_8_a_lost_callback_is_finished_by_polling_within_the_schedule(
    tmp_path: Path,
) -> None:
    wait, flip = 0.5, 1.5  # seconds after creation: first poll, task done at kie
    async with reconciler(
        tmp_path,
        sandbox_config(image_seconds=flip),
        public_url="http://127.0.0.1:9",  # webhook mode; the sandbox drops every callback
        callback_wait=wait,
        interval=fast_interval,
    ) as (sandbox, engine):
        sandbox.faults.drop_callbacks = True
        job = await submit(engine, "a lighthouse")
        [task] = sandbox.tasks.values()
        done = await engine.wait(job.id, 10)
    assert job.callback_expected and task.callback_url is not None
    assert sandbox.callbacks == []
    assert done is not None and done.status is JobStatus.COMPLETED, done
    assert len(done.assets) == 1
    times = query_times(sandbox)
    assert times[0] >= job.created_at + wait  # it waited for the callback first
    budget = 1 + int((flip - wait) / FAST[0]) + 1
    assert len(times) <= budget, (len(times), budget)
    assert task.completed_at is not None
    # Found done by the first status query after the flip (counted, not timed).
    assert len([t for t in times if t >= task.completed_at]) == 1
    # ...on the test's schedule: the typical gap is one interval (a median, so one stall of a
    # busy machine cannot fail it).
    assert statistics.median(b - a for a, b in pairwise(times)) <= FAST[1] + 0.25, times


async def test_case_9_status_faults_are_retried_and_retry_after_is_honoured(
    tmp_path: Path,
) -> None:
    async with reconciler(tmp_path, sandbox_config(), timeout=0.5, interval=fast_interval) as (
        sandbox,
        engine,
    ):
        sandbox.faults.record_faults.extend(
            [
                RecordFault.http(429, retry_after=3),
                RecordFault.http(502),
                RecordFault.http(503),
                RecordFault.connection_reset(),
                RecordFault.stalled(5),  # longer than the client's 0.5 s timeout
            ]
        )
        job = await submit(engine, "a harbour")
        done = await engine.wait(job.id, 20)
        events = await engine.store.job_events(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED, done
    assert not any(to == "failed" for _at, _from, to, _cause in events)
    times = query_times(sandbox)
    assert len(times) == 6  # five faults, then the answer that finished the job
    assert times[1] - times[0] >= 3.0  # nothing within Retry-After of the 429
    assert all(later - earlier >= FAST[0] for earlier, later in pairwise(times[1:]))


async def test_case_9_a_429_holds_back_the_status_queries_of_every_job(tmp_path: Path) -> None:
    async with reconciler(tmp_path, sandbox_config(), interval=fast_interval) as (
        sandbox,
        engine,
    ):
        sandbox.faults.record_faults.append(RecordFault.http(429, retry_after=2))
        jobs = [await submit(engine, "a harbour")]
        await eventually(lambda: not sandbox.faults.record_faults, what="the 429 answer")
        jobs += [await submit(engine, f"another harbour {n}") for n in range(2)]
        done = [await engine.wait(job.id, 10) for job in jobs]
    assert all(job is not None and job.status is JobStatus.COMPLETED for job in done)
    limited, *others = query_times(sandbox)
    assert others and all(t >= limited + 2.0 for t in others)


async def test_case_9_a_status_endpoint_that_never_recovers_times_the_job_out(
    tmp_path: Path,
) -> None:
    deadline = 2.0
    async with reconciler(
        tmp_path,
        sandbox_config(),
        interval=fast_interval,
        deadlines={MediaKind.IMAGE: deadline, MediaKind.VIDEO: deadline},
    ) as (sandbox, engine):
        sandbox.faults.record_info_http_status = 503
        job = await submit(engine, "a harbour")
        done = await engine.wait(job.id, 10)
    assert done is not None and done.status is JobStatus.FAILED and done.error is not None
    assert done.error.category == "timeout"
    message = done.error.message
    assert "kie.ai did not finish this image within 2 seconds" in message
    assert "may have charged credits" in message and "https://kie.ai/logs" in message
    assert str(job.task_id) in message
    assert "The last status check failed" in message and "(503)" in message
    assert done.updated_at - job.created_at >= deadline
    # Failed at the first check past the deadline, not polled on: at most one status query is
    # made after it (counted, not timed, so a stalled or stepped clock cannot fail the test).
    times = query_times(sandbox)
    assert len([t for t in times if t >= job.created_at + deadline]) <= 1
    assert len(times) <= 1 + int(deadline / FAST[0]) + 1


@pytest.mark.parametrize(
    ("family", "model", "task_id", "says"),
    [
        (ApiFamily.MARKET, "google/nano-banana", "f" * 32, "recordInfo is null"),
        (ApiFamily.GPT4O_IMAGE, "gpt-4o-image", "task_4o_gone", "record is null"),
    ],
)
async def test_a_task_kie_does_not_know_fails_the_job_clearly(
    tmp_path: Path, family: ApiFamily, model: str, task_id: str, says: str
) -> None:
    async with reconciler(tmp_path, sandbox_config(), interval=fast_interval) as (
        sandbox,
        engine,
    ):
        job_id = "job_" + secrets.token_hex(12)
        await engine.store.create_job(
            NewJob(
                id=job_id,
                kind=MediaKind.IMAGE,
                family=family,
                model=model,
                prompt="a lost task",
                params={},
                callback_token_hash=None,
                callback_expected=False,
                idempotency_key=None,
                expected_credits=None,
            )
        )
        await engine.store.mark_submitted(job_id, task_id)
        done = await engine.wait(job_id, 10)
        queries = [r for r in sandbox.requests if r.query.get("taskId") == task_id]
    assert done is not None and done.status is JobStatus.FAILED and done.error is not None
    assert done.error.category == "not_found"
    assert f"kie.ai says it has no task {task_id}" in done.error.message
    assert says in done.error.message
    assert len(queries) == 3


async def test_case_10_create_timeout_and_refusals_are_tool_errors_never_resubmitted(
    tmp_path: Path,
) -> None:
    async with serve_sandbox(sandbox_config()) as sandbox:
        settings = settings_for(sandbox, tmp_path, webhooks=False)
        settings = settings.model_copy(update={"request_timeout": 0.5})
        async with open_runtime(settings) as runtime, Client(build_server(runtime.tools)) as client:
            sandbox.faults.create_delay = 1.5  # the task is created, the answer comes too late
            timed_out = await client.call_tool("generate_image", {"prompt": "a lighthouse"})
            creates_after_timeout = sandbox.count(CREATE)
            sandbox.faults.create_delay = 0.0
            refused = {}
            for code in (402, 422):
                sandbox.faults.create_status = code
                refused[code] = await client.call_tool("generate_image", {"prompt": f"try {code}"})
            creates = sandbox.count(CREATE)
            page = await runtime.engine.store.list_jobs(MediaQuery(limit=10))
            jobs = {job.prompt: job for job in page.jobs}
    assert creates_after_timeout == 1 and len(sandbox.tasks) == 1
    assert creates == 3  # one request per tool call: nothing was sent twice
    assert timed_out.is_error
    text = timed_out.content[0].text  # type: ignore[union-attr]
    assert "may or may not have started (and charged for) this job" in text
    assert "It was not resubmitted" in text and "https://kie.ai/logs" in text
    uncertain = jobs["a lighthouse"]
    assert uncertain.status is JobStatus.FAILED and uncertain.error is not None
    assert uncertain.error.category == "uncertain"
    for code, said in ((402, "insufficient credits"), (422, "Validation error")):
        assert refused[code].is_error
        assert f'kie.ai said: "{said}"' in refused[code].content[0].text  # type: ignore[union-attr]
        job = jobs[f"try {code}"]
        assert job.status is JobStatus.FAILED and job.error is not None
        assert job.error.category == "rejected" and job.error.provider_code == str(code)
        assert said in job.error.message
