"""One setting chooses the database: ``KIE_DATABASE_URL``.

Unset, empty or a file path (or ``sqlite:///path``): SQLite, the embedded default.
``postgresql://...`` (or ``postgres://``): PostgreSQL, for several processes or replicas on
several machines. Only the backend in use is imported, so the default needs no driver.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from mcp_server_kie.storage.database import Database

_POSTGRES = ("postgresql", "postgres")


class BadDatabaseUrl(ValueError):
    """KIE_DATABASE_URL names no database this server can use."""


def is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme in _POSTGRES


def sqlite_path(url: str | None, default_path: Path | None) -> Path | None:
    """The SQLite file ``url`` names (the default when unset); None if it is not SQLite."""
    if not url:
        if default_path is None:
            raise BadDatabaseUrl("no database: neither KIE_DATABASE_URL nor a data folder")
        return default_path
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url.removeprefix("sqlite://")
        if not path:
            raise BadDatabaseUrl("KIE_DATABASE_URL sqlite:// needs a file: sqlite:///path/kie.db")
        return Path(path).expanduser()
    if "://" in url:
        return None
    return Path(url).expanduser()


async def open_database(url: str | None, default_path: Path | None) -> Database:
    path = sqlite_path(url, default_path)
    if path is not None:
        from mcp_server_kie.storage.sqlite import SqliteDatabase

        return await SqliteDatabase.open(path)
    if is_postgres(url):
        from mcp_server_kie.storage.postgres import PostgresDatabase

        return await PostgresDatabase.open(url or "")
    raise BadDatabaseUrl(
        f"KIE_DATABASE_URL must be a file path, sqlite:///path or postgresql://...; "
        f"the scheme {urlsplit(url or '').scheme!r} is not one of them."
    )
