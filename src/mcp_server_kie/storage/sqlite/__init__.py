"""SQLite: the embedded default, one file in the data folder."""

from mcp_server_kie.storage.sqlite.database import DIALECT, SqliteDatabase

__all__ = ["DIALECT", "SqliteDatabase"]
