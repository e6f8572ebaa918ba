"""Persistence: the only code that holds SQL."""

from mcp_server_kie.storage.backends import BadDatabaseUrl
from mcp_server_kie.storage.due import Move
from mcp_server_kie.storage.errors import (
    DailyLimitReached,
    DatabaseUnavailable,
    IdempotencyConflict,
)
from mcp_server_kie.storage.library import BadCursor, MediaQuery, decode_cursor
from mcp_server_kie.storage.records import Delivery, MediaPage, NewJob
from mcp_server_kie.storage.store import Store

__all__ = [
    "BadCursor",
    "BadDatabaseUrl",
    "DailyLimitReached",
    "DatabaseUnavailable",
    "Delivery",
    "IdempotencyConflict",
    "MediaPage",
    "MediaQuery",
    "Move",
    "NewJob",
    "Store",
    "decode_cursor",
]
