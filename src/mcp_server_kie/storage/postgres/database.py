"""The PostgreSQL backend: a psycopg 3 async connection pool, migrations under an advisory lock.

psycopg 3 (not asyncpg): it is typed (``py.typed``, so ``mypy --strict`` checks every call),
its pool (psycopg_pool) and its LISTEN/NOTIFY API come from the same maintained project, and it
speaks libpq's connection URLs and environment exactly as ``psql`` does.

The store's SQL uses ``?`` placeholders; they become ``%s`` here. Reads run in autocommit on
any pooled connection; each write is one transaction, finished even if its caller is cancelled.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg import pq
from psycopg.rows import dict_row
from psycopg.types.array import ListBinaryDumper
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from mcp_server_kie.storage.database import (
    Dialect,
    OnChange,
    OnHearing,
    Params,
    Row,
    Transaction,
)
from mcp_server_kie.storage.errors import DatabaseUnavailable
from mcp_server_kie.storage.postgres.inbox import KEEP_BATCH
from mcp_server_kie.storage.postgres.schema import MIGRATIONS
from mcp_server_kie.storage.postgres.search import search_page

log = logging.getLogger(__name__)

T = TypeVar("T")
Connection = psycopg.AsyncConnection[dict[str, Any]]

# NOTIFY payload: the id of a job that changed, a space, and the notifying process's origin
# (its own changes it has told its waiters of already, as on SQLite: it skips them).
CHANNEL = "kie_jobs"
_RELISTEN_FIRST, _RELISTEN_MAX = 0.5, 10.0
_POOL_SIZE = 10
_CONNECT_SECONDS = 30.0


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def _lists_in_binary(conn: Connection) -> None:
    """Python lists (the arrays of a batch of deliveries) sent in binary: psycopg builds an
    array's text form element by element in Python, three times the CPU of its binary one."""
    conn.adapters.register_dumper(list, ListBinaryDumper)


def _sql(sql: str) -> bytes:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled first). Bytes, because
    psycopg takes a query built at run time as bytes or as psycopg.sql objects only."""
    return sql.replace("%", "%%").replace("?", "%s").encode()


DIALECT = Dialect(
    name="postgresql",
    for_update=" FOR UPDATE",
    search_page=search_page,
    search_sorted=True,
    clear_search=None,
    now="extract(epoch FROM clock_timestamp())::double precision",
    take_pace_slot="SELECT slot, wait FROM kie_take_pace_slot(?, ?, ?, ?, ?)",  # schema 7
    writable_ctes=True,
    groups_writes=False,  # a batch (storage.group_commit) is then one round trip
    keep_batch=KEEP_BATCH,
    announces_changes=True,  # NOTIFY, heard by Database.listen
)


def _notice(job_id: str, origin: str) -> tuple[str, Params]:
    return "pg_notify(?, ?)", (CHANNEL, f"{job_id} {origin}")


class PostgresTransaction:
    def __init__(self, conn: Connection, origin: str) -> None:
        self._conn = conn
        self._origin = origin

    async def execute(self, sql: str, params: Params = ()) -> None:
        await self._conn.execute(_sql(sql), tuple(params))

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._conn.cursor() as cursor:
            await cursor.executemany(_sql(sql), [tuple(r) for r in rows])

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        cursor = await self._conn.execute(_sql(sql), tuple(params))
        return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        cursor = await self._conn.execute(_sql(sql), tuple(params))
        return list(await cursor.fetchall())

    async def fetch_each(self, sql: str, rows: Sequence[Params]) -> list[Row | None]:
        if not rows:
            return []
        async with self._conn.cursor() as cursor:  # pipelined: one round trip for all
            await cursor.executemany(_sql(sql), [tuple(r) for r in rows], returning=True)
            found: list[Row | None] = [await cursor.fetchone()]
            while cursor.nextset():
                found.append(await cursor.fetchone())
        return found

    async def serialize(self, name: str) -> None:
        await self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(name),))

    async def notify(self, job_id: str) -> None:
        expression, params = _notice(job_id, self._origin)
        await self._conn.execute(_sql(f"SELECT {expression}"), tuple(params))


class PostgresDatabase:
    dialect = DIALECT

    def __init__(self, pool: AsyncConnectionPool[Connection], url: str) -> None:
        self._pool = pool
        self.url = url  # for LISTEN connections; never logged (it may hold a password)
        self._origin = secrets.token_hex(8)  # tells this process's notifications from others
        self._writes: set[asyncio.Task[None]] = set()  # running on, whatever their callers do
        parts = urlsplit(url)
        self.description = (
            f"PostgreSQL {parts.hostname or 'local'}:{parts.port or 5432}{parts.path}"
        )

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=_POOL_SIZE,
            kwargs={"autocommit": True, "row_factory": dict_row},
            configure=_lists_in_binary,
            open=False,
            name="kie-store",
        )
        try:
            await pool.open(wait=True, timeout=_CONNECT_SECONDS)
        except PoolTimeout:
            await pool.close()
            where = urlsplit(url)
            raise DatabaseUnavailable(
                f"PostgreSQL at {where.hostname}:{where.port or 5432}{where.path} did not accept "
                f"a connection within {_CONNECT_SECONDS:.0f} s: check KIE_DATABASE_URL (host, "
                "port, user, password, database) and that the server is running."
            ) from None
        try:
            async with pool.connection() as conn:
                await _migrate(conn)
        except BaseException:
            await pool.close()
            raise
        database = cls(pool, url)
        log.info("database %s ready", database.description)
        return database

    async def close(self) -> None:
        await self._pool.close()

    async def write(self, fn: Callable[[Transaction], Awaitable[T]], *, durable: bool = True) -> T:
        # ``durable`` changes nothing here: a commit's cost is its round trip, not a sync.
        return await self._detached(self._transaction(fn))

    async def _transaction(self, fn: Callable[[Transaction], Awaitable[T]]) -> T:
        async with self._pool.connection() as conn, conn.transaction():
            return await fn(PostgresTransaction(conn, self._origin))

    async def write_one(self, sql: str, params: Params = (), *, durable: bool = True) -> list[Row]:
        # Pooled connections are in autocommit: the statement commits on its own.
        return await self._detached(self.fetch_all(sql, params))

    async def _detached(self, work: Awaitable[T]) -> T:
        """``work`` in a task of its own, finished even if the caller is cancelled meanwhile
        (a write is never cut short). Like asyncio.shield, but the task hands its result
        over itself rather than through done-callbacks: one loop turn sooner per write,
        which under load is a turn of everything else queued on the loop."""
        handed: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                result = await work
            except asyncio.CancelledError:  # (the loop is closing)
                handed.cancel()
                raise
            except BaseException as exc:
                if not handed.done():
                    handed.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                if not handed.done():
                    handed.set_result(result)

        task = asyncio.create_task(run())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return await handed

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(_sql(sql), tuple(params))
            # Rows only from a statement that answers some (a SELECT, a RETURNING clause). Asked
            # of the result's status: ``cursor.description`` would build a Column object for
            # every column of every query just to say so.
            result = cursor.pgresult
            if result is None or result.status != pq.ExecStatus.TUPLES_OK:
                return []
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_by_key(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.fetch_all(sql, params)  # one round trip either way

    def notice(self, job_id: str) -> tuple[str, Params]:
        return _notice(job_id, self._origin)

    async def listen(self, on_change: OnChange, on_hearing: OnHearing) -> None:
        """LISTEN on its own connection (a pooled one would be handed to others)."""
        pause = _RELISTEN_FIRST
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}".encode())
                    on_hearing(True)
                    pause = _RELISTEN_FIRST
                    try:
                        async for notice in conn.notifies():
                            job_id, _, origin = notice.payload.partition(" ")
                            if origin != self._origin:
                                await on_change(job_id)
                    finally:
                        on_hearing(False)
            except psycopg.OperationalError as exc:
                log.warning(
                    "listening for job changes failed (%s); again in %.0f s",
                    type(exc).__name__,
                    pause,
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, _RELISTEN_MAX)

    async def ping(self) -> bool:
        return await self.integrity_check() == "ok"

    async def integrity_check(self) -> str:
        try:
            row = await self.fetch_one("SELECT 1 AS ok")
        except (psycopg.Error, PoolTimeout) as exc:
            return f"PostgreSQL does not answer: {type(exc).__name__}"
        return "ok" if row else "no answer"


async def _migrate(conn: Connection) -> None:
    """Bring the schema up to date in one transaction holding an advisory lock: replicas
    starting together take turns, and each later one finds the work done."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("kie.migrations"),))
        await conn.execute("CREATE TABLE IF NOT EXISTS kie_schema (version INTEGER NOT NULL)")
        cursor = await conn.execute("SELECT version FROM kie_schema")
        row = await cursor.fetchone()
        if row is None:
            await conn.execute("INSERT INTO kie_schema (version) VALUES (0)")
        version = int(row["version"]) if row else 0
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"The database was written by a newer mcp-server-kie (schema {version}, "
                f"this version knows {len(MIGRATIONS)}). Upgrade the server."
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await conn.execute(script.encode())
            await conn.execute("UPDATE kie_schema SET version = %s", (number,))
            log.info("database migrated to schema %d", number)
