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
import collections
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

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
    take_pace_slot=None,  # one writer holds the file: the store's transaction is the lock
    writable_ctes=False,  # and a transaction's statements cost no round trips
    groups_writes=True,  # the writer thread takes every write queued meanwhile
    keep_batch=None,  # (a batch is one delivery: see groups_writes)
    announces_changes=False,  # other processes re-read the store
)


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

    async def fetch_each(self, sql: str, rows: Sequence[Params]) -> list[Row | None]:
        return [self._conn.execute(sql, tuple(r)).fetchone() for r in rows]

    async def serialize(self, name: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already made this the only writer of the file."""

    async def notify(self, job_id: str) -> None:
        """Nothing to do: this process signals its own waiters, and other processes on the
        file find the change when they re-read the store."""


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
        self._queued: collections.deque[_Write[Any]] = collections.deque()  # thread-safe
        self._loop = asyncio.get_running_loop()
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
        done: asyncio.Future[T] = self._loop.create_future()
        self._queued.append(_Write(fn, done, durable))
        self._thread.submit(self._commit_queued)
        # Not shielded: the write is queued already, whatever becomes of its caller (a
        # cancelled caller cancels only ``done``, which _settle then leaves alone); one loop
        # turn sooner than asyncio.shield hands the result over.
        return await done

    def _commit_queued(self) -> None:
        """On the writer's thread: everything queued so far, in one transaction (a later
        call finds nothing left and returns)."""
        batch: list[_Write[Any]] = []
        while self._queued and len(batch) < _MAX_GROUP:
            batch.append(self._queued.popleft())
        if batch:
            durable = any(write.durable for write in batch)
            outcomes = _transactions(self._writer, [write.fn for write in batch], durable)
            self._loop.call_soon_threadsafe(_settle, batch, outcomes)

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


# ---------------------------------------------------------------------- on the writer's thread


class _Write(Generic[T]):
    __slots__ = ("done", "durable", "fn")

    def __init__(self, fn: WriteFn[T], done: asyncio.Future[T], durable: bool) -> None:
        self.fn = fn
        self.done = done
        self.durable = durable


# Writes per transaction: bounds how long one commit keeps the writes after it waiting.
_MAX_GROUP = 128
_Outcome = tuple[bool, Any]  # (committed, result) or (False, the exception)


def _settle(batch: list[_Write[Any]], outcomes: list[_Outcome]) -> None:
    for write, (ok, value) in zip(batch, outcomes, strict=True):
        if write.done.done():
            continue
        if ok:
            write.done.set_result(value)
        else:
            write.done.set_exception(value)


def _transactions(
    conn: sqlite3.Connection, fns: list[WriteFn[Any]], durable: bool
) -> list[_Outcome]:
    """Run each function in its own savepoint inside one transaction and commit once. A
    function that raises loses only its own changes; if the transaction itself fails (BEGIN,
    COMMIT, or an error that makes SQLite abandon it), every function fails with it.
    Not ``durable``: committed without the fsync (WAL with synchronous=NORMAL: safe from a
    killed process, not from a power cut; the next durable commit syncs it too)."""
    if not durable:
        conn.execute("PRAGMA synchronous=NORMAL")
    try:
        return _in_one_transaction(conn, fns)
    finally:
        if not durable:
            conn.execute("PRAGMA synchronous=FULL")


def _in_one_transaction(conn: sqlite3.Connection, fns: list[WriteFn[Any]]) -> list[_Outcome]:
    outcomes: list[_Outcome] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for fn in fns:
            conn.execute("SAVEPOINT write")
            try:
                result = _run_at_once(fn(SqliteTransaction(conn)))
            except Exception as exc:
                if not conn.in_transaction:
                    raise  # SQLite rolled the whole transaction back: nothing is kept
                conn.execute("ROLLBACK TO write")
                outcomes.append((False, exc))
            else:
                outcomes.append((True, result))
            conn.execute("RELEASE write")
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if not isinstance(exc, Exception):
            raise
        return [(False, exc)] * len(fns)
    return outcomes


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
