"""Credit limits at their boundaries, on a real store: exactly at a limit passes, a hair over
is refused, an unknown price is refused whenever a limit is set, jobs being submitted and
"uncertain" jobs count as spent, and the day is the last 24 hours (not an hour, not since
midnight)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcp_server_kie.domain import ApiFamily, MediaKind, UserInputError
from mcp_server_kie.jobs.budget import DAY_SECONDS, Budget
from mcp_server_kie.storage import NewJob, Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "kie.sqlite3")
    yield opened
    await opened.close()


async def add_job(
    store: Store,
    path: Path,
    expected: float | None,
    *,
    status: str = "processing",
    credits: float | None = None,
    error: str | None = None,
    age: float = 0.0,
) -> None:
    job_id = "job_" + f"{int(time.time_ns()) % 16**24:024x}"
    await store.create_job(
        NewJob(
            id=job_id,
            kind=MediaKind.IMAGE,
            family=ApiFamily.MARKET,
            model="google/nano-banana",
            prompt="p",
            params={},
            callback_token_hash=None,
            callback_expected=False,
            idempotency_key=None,
            expected_credits=expected,
        )
    )
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE jobs SET status = ?, credits = ?, error_category = ?, created_at = ?"
            " WHERE id = ?",
            (status, credits, error, time.time() - age, job_id),
        )


async def allowed(budget: Budget, expected: float | None) -> bool:
    try:
        async with budget.reserve("m", expected):
            return True
    except UserInputError:
        return False


async def test_per_job_limit_is_inclusive(store: Store) -> None:
    budget = Budget(store, per_job=10.0, per_day=None)
    assert await allowed(budget, 10.0)
    assert await allowed(budget, 9.99)
    assert not await allowed(budget, 10.01)
    assert not await allowed(budget, 11.0)


async def test_per_day_limit_is_inclusive_of_spent_credits(store: Store, tmp_path: Path) -> None:
    db = tmp_path / "kie.sqlite3"
    await add_job(store, db, 30.0)
    budget = Budget(store, per_job=None, per_day=100.0)
    assert await allowed(budget, 70.0)  # 30 + 70 == 100: exactly at the limit
    assert not await allowed(budget, 70.01)
    await add_job(store, db, 70.0)
    assert await allowed(budget, 0.0)
    assert not await allowed(budget, 0.5)


@pytest.mark.parametrize(("per_job", "per_day"), [(10.0, None), (None, 100.0), (10.0, 100.0)])
async def test_an_unknown_price_is_refused_whenever_a_limit_is_set(
    store: Store, per_job: float | None, per_day: float | None
) -> None:
    with pytest.raises(UserInputError, match="unknown"):
        async with Budget(store, per_job, per_day).reserve("m", None):
            pass


async def test_no_limits_let_anything_through(store: Store) -> None:
    budget = Budget(store, None, None)
    assert await allowed(budget, None)
    assert await allowed(budget, 10**9)


async def test_jobs_being_submitted_count_until_released(store: Store) -> None:
    budget = Budget(store, per_job=None, per_day=100.0)
    async with budget.reserve("m", 60.0):
        assert not await allowed(budget, 40.01)  # 60 held + 40.01 > 100
        assert await allowed(budget, 40.0)
        async with budget.reserve("m", 30.0):
            assert not await allowed(budget, 10.01)
            assert await allowed(budget, 10.0)
    assert await allowed(budget, 100.0)  # everything held was released


async def test_concurrent_requests_cannot_slip_past_the_day_limit_together(store: Store) -> None:
    budget = Budget(store, per_job=None, per_day=100.0)
    inside = asyncio.Event()
    release = asyncio.Event()

    async def first() -> bool:
        async with budget.reserve("m", 80.0):
            inside.set()
            await release.wait()
            return True

    holder = asyncio.create_task(first())
    await inside.wait()
    assert not await allowed(budget, 30.0)
    release.set()
    assert await holder


@pytest.mark.parametrize(
    ("status", "credits", "error", "counted"),
    [
        ("pending", None, None, 50.0),
        ("processing", None, None, 50.0),
        ("completed", 20.0, None, 20.0),  # what kie charged, not what was expected
        ("completed", None, None, 50.0),
        ("failed", None, "uncertain", 50.0),  # the submit may have gone through: at stake
        ("failed", None, "generation_failed", 0.0),
    ],
)
async def test_what_counts_as_spent(
    store: Store,
    tmp_path: Path,
    status: str,
    credits: float | None,
    error: str | None,
    counted: float,
) -> None:
    await add_job(
        store, tmp_path / "kie.sqlite3", 50.0, status=status, credits=credits, error=error
    )
    budget = Budget(store, per_job=None, per_day=100.0)
    assert await allowed(budget, 100.0 - counted)
    assert not await allowed(budget, 100.0 - counted + 0.01)


@pytest.mark.parametrize(
    ("age", "counted"),
    [
        (0.0, True),
        (2 * 3600, True),  # a one-hour "day" would forget it
        (DAY_SECONDS - 60, True),
        (DAY_SECONDS + 60, False),
    ],
)
async def test_the_day_is_the_last_24_hours(
    store: Store, tmp_path: Path, age: float, counted: bool
) -> None:
    assert DAY_SECONDS == 86_400
    await add_job(store, tmp_path / "kie.sqlite3", 60.0, age=age)
    budget = Budget(store, per_job=None, per_day=100.0)
    assert await allowed(budget, 50.0) is not counted
