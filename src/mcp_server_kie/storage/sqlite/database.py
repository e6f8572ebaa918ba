"""The SQLite backend: one writer connection, one reader connection, migrations.

Every write runs as ``BEGIN IMMEDIATE ... COMMIT`` on the single writer connection, one at a
time. The transaction runs in its own task, shielded from the caller: a caller cancelled
mid-write (a client that disconnects) can never leave the connection inside a transaction.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import stamina

from mcp_server_kie.storage.database import Dialect, OnChange, Params, Row, Transaction
from mcp_server_kie.storage.sqlite.schema import MIGRATIONS
from mcp_server_kie.storage.sqlite.search import search_page

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteFn = Callable[[Transaction], Awaitable[T]]


DIALECT = Dialect(
    name="sqlite",
    for_update="",  # the write transaction already holds the whole file
    search_page=search_page,
    search_sorted=False,  # in the index's order: see storage.sqlite.search
    clear_search=(
        "DELETE FROM jobs_fts WHERE job_id IN"
        " (SELECT id FROM jobs WHERE status NOT IN ('pending', 'processing'))"
    ),
    now="((julianday('now') - 2440587.5) * 86400.0)",
)


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteTransaction:
    """The writer connection inside ``BEGIN IMMEDIATE``."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> None:
        await self._conn.execute(sql, tuple(params))

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, [tuple(r) for r in rows])

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, tuple(params)))  # type: ignore[arg-type]

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
        self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, path: Path
    ) -> None:
        self.description = f"SQLite {path}"
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        # One statement at a time on the reader: a statement left open by one coroutine holds
        # a read snapshot that another coroutine's query would share, and so miss a write it
        # has just committed.

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await _set_pragmas(writer)
            await _migrate(writer)
            reader = await aiosqlite.connect(path, isolation_level=None)
        except BaseException:
            await writer.close()
            raise
        for pragma in (_PRAGMAS[0], *_PRAGMAS[2:]):
            await reader.execute(pragma)
        reader.row_factory = _dict_row  # type: ignore[assignment]  # typed as a class only
        writer.row_factory = _dict_row  # type: ignore[assignment]
        log.info("database %s ready (SQLite %s)", path, sqlite3.sqlite_version)
        return cls(writer, reader, path)

    async def close(self) -> None:
        async with self._write_lock:
            await self._writer.close()
        await self._reader.close()

    async def write(self, fn: WriteFn[T]) -> T:
        """Run ``fn`` inside one immediate transaction; commit, or roll back on error."""
        return await asyncio.shield(asyncio.ensure_future(self._transaction(fn)))

    async def _transaction(self, fn: WriteFn[T]) -> T:
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                result = await fn(SqliteTransaction(self._writer))
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")
            return result

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


async def _set_pragmas(conn: aiosqlite.Connection) -> None:
    """The writer's pragmas. Switching a new file to WAL can meet another process's lock
    without SQLite calling the busy handler (it answers "database is locked" at once), so that
    is retried with backoff for as long as the busy timeout would have waited."""
    async for attempt in stamina.retry_context(
        on=_locked, attempts=None, timeout=_BUSY_SECONDS, wait_initial=0.01, wait_max=0.2
    ):
        with attempt:
            for pragma in _PRAGMAS:
                await conn.execute(pragma)


def _locked(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


async def _migrate(conn: aiosqlite.Connection) -> None:
    """Bring the schema up to date in ONE immediate transaction, reading the version inside it:
    processes starting together on a new file take turns, and each later one finds the work
    done (reading the version before taking the lock let two of them create the same tables)."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        async with conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"The database was written by a newer mcp-server-kie (schema {version}, "
                f"this version knows {len(MIGRATIONS)}). Upgrade the server."
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in _statements(script):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version={number}")
            log.info("database migrated to schema %d", number)
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


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
