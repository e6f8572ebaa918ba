"""The SQLite backend: one writer connection on its own thread, one reader connection,
migrations.

Every write runs as ``BEGIN IMMEDIATE ... COMMIT`` on the writer connection, one at a time,
in ONE call to the writer's thread: the transaction's function runs there whole, its
statements one after another, then COMMIT (one hop from the event loop per transaction, not
one per statement). So the function may await only its transaction's own methods (they run at
once on that thread); awaiting anything else is refused with a TypeError and rolled back. The
call is shielded from the caller: a caller cancelled mid-write (a client that disconnects)
never cuts a transaction short.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import stamina

from mcp_server_kie.storage.database import Dialect, OnChange, Params, Row, Transaction
from mcp_server_kie.storage.sqlite.schema import MIGRATIONS

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteFn = Callable[[Transaction], Awaitable[T]]


def _prompt_match(words: Sequence[str]) -> tuple[str, list[object]]:
    """FTS5: every word as a word prefix. Quoting each word keeps FTS5 operators and
    punctuation in user text from meaning anything."""
    expression = " ".join(f'"{word}"*' for word in words)
    return "id IN (SELECT job_id FROM jobs_fts WHERE jobs_fts MATCH ?)", [expression]


DIALECT = Dialect(
    name="sqlite",
    for_update="",  # the write transaction already holds the whole file
    prompt_match=_prompt_match,
    clear_search=(
        "DELETE FROM jobs_fts WHERE job_id IN"
        " (SELECT id FROM jobs WHERE status NOT IN ('pending', 'processing'))"
    ),
    now="((julianday('now') - 2440587.5) * 86400.0)",
)


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteTransaction:
    """The writer connection inside ``BEGIN IMMEDIATE``, on the writer's thread: each method
    runs its statement at once (its coroutine never suspends)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> None:
        self._conn.execute(sql, tuple(params))

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        self._conn.executemany(sql, [tuple(r) for r in rows])

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(self._conn.execute(sql, tuple(params)).fetchall())

    async def serialize(self, name: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already made this the only writer of the file."""

    async def notify(self, job_id: str) -> None:
        """Nothing to do: this process signals its own waiters, and other processes on the
        file find the change when they re-read the store."""


# busy_timeout first: switching to WAL needs a moment alone with the file, and another process
# starting at the same time must wait for it rather than fail with "database is locked".
_BUSY_SECONDS = 10.0
_PRAGMAS = (
    f"PRAGMA busy_timeout={int(_BUSY_SECONDS * 1000)}",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)


class SqliteDatabase:
    dialect = DIALECT

    def __init__(
        self,
        writer: sqlite3.Connection,
        thread: ThreadPoolExecutor,
        reader: aiosqlite.Connection,
        path: Path,
    ) -> None:
        self.description = f"SQLite {path}"
        self._writer = writer
        self._thread = thread  # the writer's one thread: transactions queue here, in order
        self._reader = reader
        # One statement at a time on the reader: a statement left open by one coroutine holds
        # a read snapshot that another coroutine's query would share, and so miss a write it
        # has just committed.

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        path.parent.mkdir(parents=True, exist_ok=True)
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kie-sqlite-writer")
        loop = asyncio.get_running_loop()
        try:
            writer = await loop.run_in_executor(thread, _open_writer, path)
        except BaseException:
            thread.shutdown(wait=False)
            raise
        try:
            reader = await aiosqlite.connect(path, isolation_level=None)
        except BaseException:
            await loop.run_in_executor(thread, writer.close)
            thread.shutdown(wait=False)
            raise
        for pragma in (_PRAGMAS[0], *_PRAGMAS[2:]):
            await reader.execute(pragma)
        reader.row_factory = _dict_row  # type: ignore[assignment]  # typed as a class only
        log.info("database %s ready (SQLite %s)", path, sqlite3.sqlite_version)
        return cls(writer, thread, reader, path)

    async def close(self) -> None:
        """Close once the writes already queued have committed."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._writer.close)
        self._thread.shutdown(wait=False)
        await self._reader.close()

    async def write(self, fn: WriteFn[T]) -> T:
        """Run ``fn`` inside one immediate transaction on the writer's thread; commit, or roll
        back on error. Finishes even if the caller is cancelled meanwhile."""
        run = functools.partial(_transaction, self._writer, fn)
        return await asyncio.shield(asyncio.get_running_loop().run_in_executor(self._thread, run))

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Runs the query to its end in one hop to the connection's thread. A cursor left open
        across hops keeps the reader's read transaction open while other queries interleave,
        pinning an old snapshot: a read could then miss a write that had already committed."""
        return list(await self._reader.execute_fetchall(sql, tuple(params)))  # type: ignore[arg-type]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def listen(self, on_change: OnChange, ready: asyncio.Event) -> None:
        """SQLite has no notifications: nothing arrives (see notify)."""
        ready.set()
        await asyncio.Event().wait()

    async def ping(self) -> bool:
        try:
            return await self.fetch_one("SELECT 1 AS ok") is not None
        except sqlite3.Error:
            return False

    async def integrity_check(self) -> str:
        row = await self.fetch_one("PRAGMA integrity_check")
        return str(next(iter(row.values()))) if row else "no answer"


# ---------------------------------------------------------------------- on the writer's thread


def _transaction(conn: sqlite3.Connection, fn: WriteFn[T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = _run_at_once(fn(SqliteTransaction(conn)))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _run_at_once(step: Awaitable[T]) -> T:
    """The result of a coroutine that awaits only statements that run at once."""
    if not isinstance(step, Coroutine):
        raise TypeError("a write transaction's function must be a coroutine function")
    try:
        step.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    step.close()
    raise TypeError(
        "a SQLite write transaction awaited something other than its own statements; "
        "it runs whole on the writer's thread, so do that work before or after it"
    )


def _open_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _set_pragmas(conn)
        _migrate(conn)
    except BaseException:
        conn.close()
        raise
    conn.row_factory = _dict_row
    return conn


def _set_pragmas(conn: sqlite3.Connection) -> None:
    """The writer's pragmas. Switching a new file to WAL can meet another process's lock
    without SQLite calling the busy handler (it answers "database is locked" at once), so that
    is retried with backoff for as long as the busy timeout would have waited."""
    for attempt in stamina.retry_context(
        on=_locked, attempts=None, timeout=_BUSY_SECONDS, wait_initial=0.01, wait_max=0.2
    ):
        with attempt:
            for pragma in _PRAGMAS:
                conn.execute(pragma)


def _locked(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema up to date in ONE immediate transaction, reading the version inside it:
    processes starting together on a new file take turns, and each later one finds the work
    done (reading the version before taking the lock let two of them create the same tables)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("PRAGMA user_version").fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"The database was written by a newer mcp-server-kie (schema {version}, "
                f"this version knows {len(MIGRATIONS)}). Upgrade the server."
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
            log.info("database migrated to schema %d", number)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (trigger bodies contain semicolons)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]}")
    return statements
