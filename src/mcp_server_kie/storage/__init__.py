"""Persistence: the only code that holds SQL."""

from mcp_server_kie.storage.errors import DailyLimitReached, IdempotencyConflict
from mcp_server_kie.storage.library import BadCursor, MediaQuery, decode_cursor
from mcp_server_kie.storage.store import Delivery, MediaPage, NewJob, Store

__all__ = [
    "BadCursor",
    "DailyLimitReached",
    "Delivery",
    "IdempotencyConflict",
    "MediaPage",
    "MediaQuery",
    "NewJob",
    "Store",
    "decode_cursor",
]
