"""Random interleavings of creates, callbacks, duplicates, polls and restarts (Hypothesis).

Each example runs the real runtime against an in-process sandbox whose clock the test moves, so
kie's side only changes when a step says so. Callbacks are posted by the test (the sandbox's own
delivery is switched off) to the callback URL kie was given, so duplicates, early callbacks and
callbacks racing a slow create response are all steps. A restart closes the runtime, as a server
shutting down does (tool calls in flight are cancelled), and opens it again on the same data
directory and port. At the end kie delivers one callback per finished task, as it does, and the
invariants must hold within a bounded settle:

- one terminal state per job: at most one job event into completed/failed, and after the
  settle exactly one, matching what kie says (completed for success, failed for fail);
- one download per asset: one CDN GET per result URL of a completed job, besides downloads
  a restart cut short;
- every callback answered 200 was acted on: none is left unprocessed in the inbox (one for a
  finished job, or identical to one already stored, needs no row at all).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mcp_server_kie.catalog import get_model, validate_request
from mcp_server_kie.domain import JobStatus, MediaKind
from mcp_server_kie.jobs import SubmitError
from mcp_server_kie.sandbox import FAIL_DIRECTIVE, Sandbox, SandboxConfig, SimTask, serve_sandbox
from mcp_server_kie.server.runtime import Runtime, open_runtime
from mcp_server_kie.storage import MediaQuery, Store
from support import SANDBOX_KEY, eventually, free_port, settings_for

TASK_SECONDS = 1.0
CREATE_DELAY = 0.3

steps = st.one_of(
    st.tuples(st.just("create"), st.booleans(), st.sampled_from([0.0, CREATE_DELAY])),
    st.tuples(st.just("callback"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("poll"), st.integers(0, 5)),
    st.tuples(st.just("advance"), st.sampled_from([0.4, 1.2])),
    st.tuples(st.just("restart")),
)


class Clock:
    """The sandbox's clock: tasks progress only when a step advances it."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    sandbox: Sandbox
    clock: Clock
    data_dir: Path
    port: int
    http: httpx2.AsyncClient
    runtime: Runtime | None = None
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    submits: set[asyncio.Task[Any]] = field(default_factory=set)
    acknowledged: Counter[str] = field(default_factory=Counter)
    excused_downloads: Counter[str] = field(default_factory=Counter)

    async def open(self) -> None:
        self.stack = AsyncExitStack()
        settings = settings_for(self.sandbox, self.data_dir, webhooks=True, port=self.port)
        self.runtime = await self.stack.enter_async_context(open_runtime(settings))

    async def close(self) -> None:
        for task in self.submits:
            task.cancel()
        await asyncio.gather(*self.submits, return_exceptions=True)
        self.submits.clear()
        await self.stack.aclose()
        self.runtime = None

    @property
    def rt(self) -> Runtime:
        assert self.runtime is not None
        return self.runtime

    async def create(self, fail: bool, delay: float) -> None:
        """Submit a job; with a delay, kie has the task but its answer is still on the way."""
        prompt = f"interleaving {len(self.sandbox.tasks)}" + (f" {FAIL_DIRECTIVE}" if fail else "")
        spec = get_model("google/nano-banana", MediaKind.IMAGE)
        request = validate_request(spec, prompt, {})
        before = len(self.sandbox.tasks)
        if delay:
            event("create answered late")
        self.sandbox.faults.create_delay = delay
        task = asyncio.create_task(self.rt.engine.submit(MediaKind.IMAGE, request, prompt))
        self.submits.add(task)
        task.add_done_callback(self.submits.discard)
        await eventually(lambda: len(self.sandbox.tasks) > before, what="task created at kie")

    async def callback(self, task: SimTask, copies: int) -> None:
        assert task.callback_url is not None
        job = await self.rt.engine.get(job_of(task))
        if job is not None and job.task_id is None:
            event("callback before the create answer")
        if not task.terminal(self.clock()):
            event("callback before the task finished")
        if copies > 1:
            event("duplicate callbacks")
        body = task.callback_body(self.clock())
        answers = await asyncio.gather(
            *(self.http.post(task.callback_url, json=body) for _ in range(copies))
        )
        for answer in answers:
            assert answer.status_code == 200, answer.text
            self.acknowledged[job_of(task)] += 1

    async def restart(self) -> None:
        if self.submits:
            event("restart cancelled a submit")
        await self.close()
        # Downloads cut short by the shutdown are done again after it: excuse those so far.
        gets = cdn_gets(self.sandbox)
        completed = await self.completed_jobs()
        for task in self.sandbox.tasks.values():
            if job_of(task) not in completed:
                for url in task.result_urls:
                    if gets[path_of(url)]:
                        event("restart interrupted a download")
                        self.excused_downloads[url] = gets[path_of(url)]
        await self.open()

    async def completed_jobs(self) -> set[str]:
        """Read the store while the runtime is closed, through a store of our own."""
        store = await Store.open(self.data_dir / "kie.sqlite3")
        try:
            jobs = (await store.list_jobs(MediaQuery(limit=1000))).jobs
        finally:
            await store.close()
        return {job.id for job in jobs if job.status is JobStatus.COMPLETED}


def cdn_gets(sandbox: Sandbox) -> Counter[str]:
    return Counter(r.path for r in sandbox.requests if r.path.startswith("/cdn/"))


def path_of(url: str) -> str:
    return httpx2.URL(url).path


def job_of(task: SimTask) -> str:
    assert task.callback_url is not None
    return httpx2.URL(task.callback_url).path.rsplit("/", 1)[-1]


async def play(plan: list[tuple[Any, ...]]) -> None:
    clock = Clock()
    config = SandboxConfig(
        api_key=SANDBOX_KEY, image_seconds=TASK_SECONDS, clock=clock, create_rate_limit=10_000
    )
    with tempfile.TemporaryDirectory() as tmp:
        async with serve_sandbox(config) as sandbox, httpx2.AsyncClient() as http:
            sandbox.faults.drop_callbacks = True
            world = World(sandbox, clock, Path(tmp), free_port(), http)
            await world.open()
            try:
                for step in plan:
                    await run_step(world, step)
                    await check_running(world)
                await settle(world)
                await check_final(world)
            finally:
                await world.close()


async def run_step(world: World, step: tuple[Any, ...]) -> None:
    tasks = list(world.sandbox.tasks.values())
    match step:
        case ("create", fail, delay):
            await world.create(fail, delay)
        case ("callback", index, copies) if tasks:
            await world.callback(tasks[index % len(tasks)], copies)
        case ("poll", index) if tasks:
            await world.rt.engine.refresh(job_of(tasks[index % len(tasks)]))
        case ("advance", seconds):
            world.clock.now += seconds
        case ("restart",):
            await world.restart()


async def settle(world: World) -> None:
    """kie finishes every task and sends each its callback; the server must then finish all."""
    for result in await asyncio.gather(*world.submits, return_exceptions=True):
        assert not isinstance(result, BaseException) or isinstance(result, SubmitError), result
    world.clock.now += 10 * TASK_SECONDS
    for task in list(world.sandbox.tasks.values()):
        await world.callback(task, 1)

    async def all_terminal() -> bool:
        jobs = (await world.rt.engine.store.list_jobs(MediaQuery(limit=1000))).jobs
        return all(job.status.terminal for job in jobs)

    await eventually(all_terminal, timeout=10, what="every job terminal after kie finished")


async def terminal_events(world: World) -> Counter[str]:
    rows = await world.rt.engine.store.db.fetch_all(
        "SELECT job_id FROM job_events WHERE to_status IN ('completed', 'failed')"
    )
    return Counter(str(row["job_id"]) for row in rows)


async def check_running(world: World) -> None:
    if world.runtime is None:
        return
    assert max((await terminal_events(world)).values(), default=0) <= 1


async def check_final(world: World) -> None:
    store = world.rt.engine.store
    jobs = {job.id: job for job in (await store.list_jobs(MediaQuery(limit=1000))).jobs}
    tasks = {job_of(task): task for task in world.sandbox.tasks.values()}
    assert set(jobs) == set(tasks)
    events = await terminal_events(world)
    gets = cdn_gets(world.sandbox)
    for job_id, job in jobs.items():
        task = tasks[job_id]
        assert events[job_id] == 1, (job_id, await store.job_events(job_id))
        expected = JobStatus.COMPLETED if task.succeeded(world.clock()) else JobStatus.FAILED
        assert job.status is expected, (job_id, job.status, job.error)
        assert job.task_id == task.task_id
        # A delivery acknowledged last may still be in hand in the background: bounded wait.
        await eventually(
            lambda job_id=job_id: _all_processed(store, job_id), what=f"{job_id} inbox processed"
        )
        if job.status is JobStatus.COMPLETED:
            assert [a.source_url for a in job.assets] == list(task.result_urls)
            for url in task.result_urls:
                assert gets[path_of(url)] == 1 + world.excused_downloads[url], url


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(plan=st.lists(steps, min_size=1, max_size=12))
def test_interleavings_keep_one_terminal_state_and_one_download(
    plan: list[tuple[Any, ...]],
) -> None:
    asyncio.run(play(plan))


async def _all_processed(store: Store, job_id: str) -> bool:
    return not await store.pending_deliveries(job_id)
