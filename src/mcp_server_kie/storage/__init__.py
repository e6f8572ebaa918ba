"""Persistence: the only code that holds SQL."""

from mcp_server_kie.storage.store import Delivery, NewJob, Store

__all__ = ["Delivery", "NewJob", "Store"]
