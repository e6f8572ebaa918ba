"""The last line of every tool: whatever goes wrong, the model reads one sentence.

A failure of the data folder or database (disk full, read-only, damaged) is explained by
`storage.failures`; anything else unexpected is logged with its traceback to stderr and
reported as what failed and what to do, never as the SDK's bare "Error executing tool".
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from mcp_server_kie.redaction import redact_text
from mcp_server_kie.storage.failures import explain_storage_failure
from mcp_server_kie.tools.context import ToolContext

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def in_sentences(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """``fn`` with every exception other than ToolError turned into a ToolError sentence."""

    @functools.wraps(fn)
    async def tool(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except ToolError:
            raise
        except Exception as exc:  # noqa: BLE001 - the tool boundary: logged, then a sentence
            raise ToolError(_sentence(fn.__name__, exc, kwargs.get("ctx"))) from None

    return tool


def _sentence(name: str, exc: Exception, ctx: Any) -> str:
    state = getattr(getattr(ctx, "request_context", None), "lifespan_context", None)
    database = state.database_path if isinstance(state, ToolContext) else None
    explained = explain_storage_failure(exc, database) if database is not None else None
    if explained is not None:
        log.error("%s failed: %s", name, explained)
        return explained
    log.error("%s failed unexpectedly", name, exc_info=exc)
    detail = redact_text(f"{type(exc).__name__}: {exc}")[:300]
    return (
        f"{name} could not finish because of an unexpected error ({detail}). Nothing else was "
        "changed; try again, and if it happens again the server's log (stderr) has the details."
    )
