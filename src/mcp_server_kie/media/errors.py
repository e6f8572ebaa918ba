"""The one error a download raises, with a category that callers and tests can rely on, and
when trying again is worth it."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime
from typing import Literal

Category = Literal[
    "too_large",  # over the size cap for its kind (declared or counted)
    "length_mismatch",  # fewer or more bytes than declared, or a truncated file
    "bad_type",  # not a supported image/video by its bytes, the wrong kind, or encoded
    "expired",  # the link answered 403/404/410, even after one refresh
    "blocked",  # the SSRF policy refused the URL, a redirect or an address
    "network",  # connection failures, resets, dropped bodies
    "timeout",  # the overall deadline, or connect/read timeouts
    "http_status",  # any other unexpected HTTP status
    "storage",  # the media store (folder or bucket) could not keep the file
]


class DownloadError(Exception):
    """A result could not be stored. ``category`` is stable; the message is for a reader.

    ``retryable`` says whether trying again later may help; ``retry_after`` carries a server's
    ``Retry-After`` (seconds) into the retry schedule.
    """

    def __init__(
        self,
        category: Category,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.category: Category = category
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


def worth_retrying(exc: Exception) -> bool | float:
    """stamina's predicate: retry transient download errors, after Retry-After if given."""
    if not isinstance(exc, DownloadError) or not exc.retryable:
        return False
    return exc.retry_after if exc.retry_after is not None else True


def retry_after_seconds(value: str | None, cap: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), within [0, cap]."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), cap)
