"""Business errors and the words kie.ai uses for them.

kie answers most errors as HTTP 200 with the real status in the body's `code`; an `ApiError`
raised by a sandbox operation becomes exactly that.
"""

from __future__ import annotations

NO_ACCESS = "You do not have access permissions"

MESSAGES = {
    400: "Bad request",
    401: NO_ACCESS,
    402: "insufficient credits",
    404: "Not found",
    422: "Validation error",
    429: "Rate limited: too many requests, please retry later",
    433: "Sub-key usage exceeds its limit",
    455: "Service unavailable: the system is under maintenance",
    500: "Server error",
    501: "Generation failed",
    505: "Feature disabled",
    550: "Connection denied: the queue is full",
}


def message_for(code: int) -> str:
    return MESSAGES.get(code, "Simulated failure")


class ApiError(Exception):
    """A business error: answered as HTTP 200 with `{"code": code, "msg": msg, "data": null}`."""

    def __init__(self, code: int, msg: str | None = None) -> None:
        super().__init__(msg or message_for(code))
        self.code = code
        self.msg = msg or message_for(code)
