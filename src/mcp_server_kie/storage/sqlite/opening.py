"""Opening the SQLite file: the connections' pragmas, and migrations safe under concurrent
start (processes starting together on a new file take turns)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import stamina

from mcp_server_kie.storage.sqlite.schema import MIGRATIONS

log = logging.getLogger(__name__)

# busy_timeout first: switching to WAL needs a moment alone with the file, and another process
# starting at the same time must wait for it rather than fail with "database is locked".
_BUSY_SECONDS = 10.0
_PRAGMAS = (
    f"PRAGMA busy_timeout={int(_BUSY_SECONDS * 1000)}",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)
READER_PRAGMAS = (_PRAGMAS[0], *_PRAGMAS[2:])  # WAL is the file's, set by the writer
# The event loop's connection for reads by key never waits for the file (see fetch_by_key).
KEYED_PRAGMAS = ("PRAGMA busy_timeout=0", *_PRAGMAS[2:])


def dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def open_writer(path: Path) -> sqlite3.Connection:
    """The writer connection, pragmas set and schema up to date (on the writer's thread)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _set_pragmas(conn)
        _migrate(conn)
    except BaseException:
        conn.close()
        raise
    conn.row_factory = dict_row
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
