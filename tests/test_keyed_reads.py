"""Reads by key on SQLite run on the event loop's thread (storage/sqlite/database.py): they see
every write committed before them, and what that connection cannot answer (a busy file) is
answered on the reader's thread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mcp_server_kie.domain import TaskState
from mcp_server_kie.storage import Store
from test_webhook_security import TASK_ID, open_job

JOB = "job_" + "d" * 24


async def test_a_read_by_key_sees_the_write_committed_just_before(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "kie.sqlite3")
    try:
        assert await store.get_job(JOB) is None
        await open_job(store, JOB, TASK_ID)
        for state in (TaskState.WAITING, TaskState.GENERATING, TaskState.WAITING):
            await store.set_task_state(JOB, state)
            job = await store.get_job(JOB)
            assert job is not None and job.task_state is state
    finally:
        await store.close()


async def test_a_read_the_loop_thread_cannot_answer_is_answered_by_the_reader(
    tmp_path: Path,
) -> None:
    """When the connection on the event loop's thread fails (here: SQLite refuses the query's
    expressions), the read is answered on the reader's thread all the same."""
    path = tmp_path / "kie.sqlite3"
    first = await Store.open(path)
    try:
        await open_job(first, JOB, TASK_ID)
    finally:
        await first.close()
    store = await Store.open(path)  # its connection on the loop's thread has run no query
    try:
        keyed: sqlite3.Connection = store.db._keyed  # type: ignore[attr-defined]
        keyed.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 1)
        with pytest.raises(sqlite3.OperationalError):
            keyed.execute("SELECT id FROM jobs WHERE id = ?", (JOB,))
        job = await store.get_job(JOB)
        assert job is not None and job.id == JOB and job.task_id == TASK_ID
        target = await store.callback_target(JOB)
        assert target is not None and target.task_id == TASK_ID
    finally:
        await store.close()
