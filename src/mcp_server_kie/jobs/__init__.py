"""The engine: submit, accept a callback, poll, reconcile after restart, finish, fail."""

from mcp_server_kie.jobs.callbacks import CallbackRejected
from mcp_server_kie.jobs.engine import Engine, ProviderError, SubmitError, token_hash
from mcp_server_kie.jobs.library import Deleted, Library
from mcp_server_kie.jobs.outputs import OutputStore
from mcp_server_kie.jobs.poller import Poller

__all__ = [
    "CallbackRejected",
    "Deleted",
    "Engine",
    "Library",
    "OutputStore",
    "Poller",
    "ProviderError",
    "SubmitError",
    "token_hash",
]
