"""Credit limits at their boundaries, on a real store: exactly at a limit passes, a hair over
is refused, an unknown price is refused whenever a limit is set, pending and "uncertain" jobs
count as spent, concurrent creates cannot slip past the day's limit together, and the day is
the last 24 hours (not an hour, not since midnight)."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcp_server_kie.domain import ApiFamily, MediaKind, UserInputError
from mcp_server_kie.jobs.budget import Budget
from mcp_server_kie.storage import DailyLimitReached, NewJob, Store
from mcp_server_kie.storage.store import DAY_SECONDS


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "kie.sqlite3")
    yield opened
    await opened.close()


def new_job_id() -> str:
    return "job_" + secrets.token_hex(12)


def new_job(job_id: str, expected: float | None) -> NewJob:
    return NewJob(
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
    job_id = new_job_id()
    await store.create_job(new_job(job_id, expected))
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE jobs SET status = ?, credits = ?, error_category = ?, created_at = ?"
            " WHERE id = ?",
            (status, credits, error, time.time() - age, job_id),
        )


async def allowed(store: Store, path: Path, limit: float, expected: float) -> bool:
    """Whether the store lets a job of ``expected`` credits in under a daily ``limit``; an
    admitted probe job is then marked failed for certain, so it stops counting."""
    job_id = new_job_id()
    try:
        await store.create_job(new_job(job_id, expected), daily_limit=limit)
    except DailyLimitReached:
        return False
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE jobs SET status = 'failed', error_category = 'generation_failed' WHERE id = ?",
            (job_id,),
        )
    return True


def within_job_limit(budget: Budget, expected: float | None) -> bool:
    try:
        budget.check("m", expected)
    except UserInputError:
        return False
    return True


def test_per_job_limit_is_inclusive() -> None:
    budget = Budget(per_job=10.0, per_day=None)
    assert within_job_limit(budget, 10.0)
    assert within_job_limit(budget, 9.99)
    assert not within_job_limit(budget, 10.01)
    assert not within_job_limit(budget, 11.0)


async def test_per_day_limit_is_inclusive_of_spent_credits(store: Store, tmp_path: Path) -> None:
    db = tmp_path / "kie.sqlite3"
    await add_job(store, db, 30.0)
    assert await allowed(store, db, 100.0, 70.0)  # 30 + 70 == 100: exactly at the limit
    assert not await allowed(store, db, 100.0, 70.01)
    await add_job(store, db, 70.0)
    assert await allowed(store, db, 100.0, 0.0)
    assert not await allowed(store, db, 100.0, 0.5)


@pytest.mark.parametrize(("per_job", "per_day"), [(10.0, None), (None, 100.0), (10.0, 100.0)])
def test_an_unknown_price_is_refused_whenever_a_limit_is_set(
    per_job: float | None, per_day: float | None
) -> None:
    with pytest.raises(UserInputError, match="unknown"):
        Budget(per_job, per_day).check("m", None)


def test_no_limits_let_anything_through() -> None:
    budget = Budget(None, None)
    assert within_job_limit(budget, None)
    assert within_job_limit(budget, 10**9)


async def test_concurrent_creates_cannot_slip_past_the_day_limit_together(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(store.create_job(new_job(new_job_id(), 4.0), daily_limit=10.0) for _ in range(8)),
        return_exceptions=True,
    )
    admitted = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, DailyLimitReached)]
    assert len(admitted) == 2 and len(refused) == 6  # 2 x 4 <= 10 < 3 x 4


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
    db = tmp_path / "kie.sqlite3"
    await add_job(store, db, 50.0, status=status, credits=credits, error=error)
    assert await allowed(store, db, 100.0, 100.0 - counted)
    assert not await allowed(store, db, 100.0, 100.0 - counted + 0.01)


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
    db = tmp_path / "kie.sqlite3"
    await add_job(store, db, 60.0, age=age)
    assert await allowed(store, db, 100.0, 50.0) is not counted
