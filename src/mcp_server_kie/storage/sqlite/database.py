"""The SQLite backend: one writer connection on its own thread, one reader connection on
another, one connection for reads by key on the event loop's own thread, migrations.

Every write runs on the writer connection, one at a time, in ONE call to the writer's thread:
the transaction's function runs there whole, its statements one after another (one hop from
the event loop per transaction, not one per statement). So the function may await only its
transaction's own methods (they run at once on that thread); awaiting anything else is refused
with a TypeError and rolled back. The writes queued while the writer was busy commit together
(group commit: ``BEGIN IMMEDIATE``, each write in its own savepoint, one ``COMMIT``, one
fsync): each is still all or nothing on its own, runs in the order it was asked for, and its
caller hears of it only after that COMMIT. A write once asked for does not depend on its
caller: a caller cancelled mid-write (a client that disconnects) never cuts it short.

A read by key (``fetch_by_key``: a job, a lease) takes microseconds, less than the hop to the
reader's thread: it runs on the event loop's thread, on a connection that never waits for the
file. In WAL mode a reader does not wait for the writer; if the file is ever busy all the same
(a process holding it exclusively, a WAL being recovered), the read goes to the reader's
thread, which waits there, and the event loop does not.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import aiosqlite

from mcp_server_kie.storage.database import (
    Dialect,
    OnChange,
    OnHearing,
    Params,
    Row,
    Transaction,
)
from mcp_server_kie.storage.sqlite.opening import (
    KEYED_PRAGMAS,
    READER_PRAGMAS,
    dict_row,
    open_writer,
)
from mcp_server_kie.storage.sqlite.search import search_page
from mcp_server_kie.storage.sqlite.writer import WriteFn, WriteQueue

log = logging.getLogger(__name__)

T = TypeVar("T")


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
    take_pace_slot=None,  # one writer holds the file: the store's transaction is the lock
    writable_ctes=False,  # and a transaction's statements cost no round trips
    groups_writes=True,  # the writer thread takes every write queued meanwhile
    keep_batch=None,  # (a batch is one delivery: see groups_writes)
    announces_changes=False,  # other processes re-read the store
)


class SqliteDatabase:
    dialect = DIALECT

    def __init__(
        self,
        writer: sqlite3.Connection,
        thread: ThreadPoolExecutor,
        reader: aiosqlite.Connection,
        keyed: sqlite3.Connection,
        path: Path,
    ) -> None:
        self.description = f"SQLite {path}"
        self._writer = writer
        self._thread = thread  # the writer's one thread: transactions queue here, in order
        self._writes = WriteQueue(writer, thread)
        self._reader = reader
        self._keyed = keyed  # on the event loop's thread only
        # One statement at a time on the reader: a statement left open by one coroutine holds
        # a read snapshot that another coroutine's query would share, and so miss a write it
        # has just committed.

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        path.parent.mkdir(parents=True, exist_ok=True)
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kie-sqlite-writer")
        loop = asyncio.get_running_loop()
        try:
            writer = await loop.run_in_executor(thread, open_writer, path)
        except BaseException:
            thread.shutdown(wait=False)
            raise
        try:
            reader = await aiosqlite.connect(path, isolation_level=None)
        except BaseException:
            await loop.run_in_executor(thread, writer.close)
            thread.shutdown(wait=False)
            raise
        for pragma in READER_PRAGMAS:
            await reader.execute(pragma)
        reader.row_factory = dict_row  # type: ignore[assignment]  # typed as a class only
        keyed = sqlite3.connect(path, isolation_level=None)
        for pragma in KEYED_PRAGMAS:
            keyed.execute(pragma)
        keyed.row_factory = dict_row
        log.info("database %s ready (SQLite %s)", path, sqlite3.sqlite_version)
        return cls(writer, thread, reader, keyed, path)

    async def close(self) -> None:
        """Close once the writes already queued have committed."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._writer.close)
        self._thread.shutdown(wait=False)
        await self._reader.close()
        self._keyed.close()

    async def write(self, fn: WriteFn[T], *, durable: bool = True) -> T:
        """Run ``fn`` inside one immediate transaction on the writer's thread, shared with the
        writes queued beside it; commit, or roll back ``fn``'s part if it raises. Returns once
        committed; finishes even if the caller is cancelled meanwhile."""
        # Not shielded: the write is queued already, whatever becomes of its caller (a
        # cancelled caller cancels only its future, which is then left alone); one loop turn
        # sooner than asyncio.shield hands the result over.
        return await self._writes.put(fn, durable)

    async def write_one(self, sql: str, params: Params = (), *, durable: bool = True) -> list[Row]:
        async def one(conn: Transaction) -> list[Row]:
            return await conn.fetch_all(sql, params)

        return await self.write(one, durable=durable)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Runs the query to its end in one hop to the connection's thread. A cursor left open
        across hops keeps the reader's read transaction open while other queries interleave,
        pinning an old snapshot: a read could then miss a write that had already committed."""
        return list(await self._reader.execute_fetchall(sql, tuple(params)))  # type: ignore[arg-type]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_by_key(self, sql: str, params: Params = ()) -> list[Row]:
        """On this thread, whole (no snapshot outlives the call), after one turn of the event
        loop: a loop of reads that never waited would otherwise keep everything else (the
        writer's answers included) from running. What this connection cannot answer (a busy
        file: an OperationalError) is left to the reader's thread, which waits for the file or
        raises."""
        await asyncio.sleep(0)
        try:
            rows: list[Row] = self._keyed.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError:
            return await self.fetch_all(sql, params)
        return rows

    def notice(self, job_id: str) -> None:
        return None  # nobody to tell: other processes re-read the store

    async def listen(self, on_change: OnChange, on_hearing: OnHearing) -> None:
        """SQLite has no notifications: nothing arrives (see notify)."""
        await asyncio.Event().wait()

    async def ping(self) -> bool:
        try:
            return await self.fetch_one("SELECT 1 AS ok") is not None
        except sqlite3.Error:
            return False

    async def integrity_check(self) -> str:
        row = await self.fetch_one("PRAGMA integrity_check")
        return str(next(iter(row.values()))) if row else "no answer"
