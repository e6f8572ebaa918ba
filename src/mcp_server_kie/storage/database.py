"""The seam between the store's SQL and a database engine.

The store writes portable SQL (``?`` placeholders, ``RETURNING``, row values, ``ON CONFLICT``)
against these protocols; each backend (``storage/sqlite``, ``storage/postgres``) supplies a
Database and the few fragments that differ (its Dialect). Everything above the store sees
neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
OnChange = Callable[[str], Awaitable[None]]
OnHearing = Callable[[bool], None]
Row = Mapping[str, Any]
Params = Sequence[object]


class Transaction(Protocol):
    """One open write transaction: everything done through it commits or rolls back together."""

    async def execute(self, sql: str, params: Params = ()) -> None: ...

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_each(self, sql: str, rows: Sequence[Params]) -> list[Row | None]:
        """Run ``sql`` once per parameter row, in order; each run's first row (RETURNING), or
        None. (PostgreSQL: the runs are sent together, one round trip for all.)"""
        ...

    async def serialize(self, name: str) -> None:
        """Wait until no other transaction, in any process, holds ``name``; hold it until
        this one ends. (SQLite: already so, one writer holds the whole file.)"""
        ...

    async def notify(self, job_id: str) -> None:
        """Tell every process listening (Database.listen) that the job changed, once this
        transaction commits. (SQLite: nobody to tell; other processes re-read the store.)"""
        ...


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of a prompt search, in pieces a dialect assembles into its own query shape."""

    words: Sequence[str]  # every word must appear as a word prefix
    conditions: Sequence[str]  # the other filters on ``jobs`` columns, cursor included
    params: Sequence[object]  # the conditions' parameters, in order
    newest_first: bool
    after: tuple[float, str] | None  # (created_at, id) of the previous page's last item
    fetch: int  # the rows wanted: a page and one more


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str  # "sqlite" or "postgresql"
    for_update: str  # appended to a SELECT that decides an UPDATE in the same transaction
    # A prompt search -> one SELECT of ``jobs`` rows and its parameters. When ``search_sorted``
    # is False the rows come in the index's order and may run past ``fetch``: the caller sorts
    # them by (created_at, id) and keeps ``fetch``.
    search_page: Callable[[SearchPage], tuple[str, list[object]]]
    search_sorted: bool
    clear_search: str | None  # empties the search index of finished jobs, if it is separate
    now: str  # the database's clock in unix seconds: one clock for every replica's leases
    # One statement that takes a pace slot (storage.pace's rule) and answers (slot, wait), or
    # None: the store takes it in a transaction of its own statements.
    take_pace_slot: str | None
    # A WITH clause may hold INSERT and UPDATE statements: a job's status change, its event
    # and its files are then one statement (storage.transitions), one round trip.
    writable_ctes: bool
    # ``write`` itself commits the writes queued while one commits in the next transaction,
    # without the event loop (SQLite's writer thread): batching above it only adds a wait.
    groups_writes: bool
    # One statement that stores a batch of webhook deliveries (storage.inbox's rule) and
    # answers each one's outcome (storage.postgres.inbox), or None: the store runs one INSERT
    # per delivery in a transaction.
    keep_batch: str | None
    # A commit's job changes are announced to every process listening (Database.listen): a
    # waiter need not re-read the store to learn of another process's change.
    announces_changes: bool


class Database(Protocol):
    dialect: Dialect
    description: str  # e.g. "SQLite /data/kie.sqlite3"; never a password

    async def write(self, fn: Callable[[Transaction], Awaitable[T]], *, durable: bool = True) -> T:
        """Run ``fn`` in one transaction and commit, or roll back if it raises. The
        transaction finishes even if the caller is cancelled meanwhile. ``fn`` awaits only
        its transaction's methods (SQLite runs it whole on the writer's thread, in one hop).

        ``durable=False`` is for state that expires by itself (leases, pace slots): its
        commit survives the process being killed but may be lost to a power cut, and SQLite
        then skips the fsync (a commit shared with a durable write is durable)."""
        ...

    async def write_one(self, sql: str, params: Params = (), *, durable: bool = True) -> list[Row]:
        """``write`` for one statement that is atomic by itself (no transaction needed around
        it); its RETURNING rows, once committed. PostgreSQL sends it alone in autocommit:
        one round trip instead of three (BEGIN, the statement, COMMIT)."""
        ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...

    async def fetch_by_key(self, sql: str, params: Params = ()) -> list[Row]:
        """``fetch_all`` for a read through a key: a job and its files, a lease, one job's
        waiting deliveries (a handful of rows found through an index). SQLite answers it on
        the event loop's thread (~10 µs) instead of in a hop to its reader's thread (0.1-0.4 ms
        here; a callback meets several on its way to the waiter)."""
        ...

    def notice(self, job_id: str) -> tuple[str, Params] | None:
        """An SQL expression, and its parameters, that tells every listening process that
        the job changed once the statement evaluating it commits (what Transaction.notify
        sends); None when there is nobody to tell (SQLite)."""
        ...

    async def listen(self, on_change: OnChange, on_hearing: OnHearing) -> None:
        """Call ``on_change(job_id)`` for every job another transaction notified, until
        cancelled. ``on_hearing(True)`` once listening: every change committed from then on
        is announced; ``on_hearing(False)`` when listening broke off (announcements are
        missed until the next ``on_hearing(True)``). Reconnects by itself after a failure.
        (SQLite: announces nothing, calls neither.)"""
        ...

    async def ping(self) -> bool:
        """Whether the database answers a trivial query now (cheap: for /healthz)."""
        ...

    async def integrity_check(self) -> str:
        """'ok' when the database answers and is sound; otherwise what is wrong."""
        ...

    async def close(self) -> None: ...
