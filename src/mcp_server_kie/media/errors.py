"""The one error a download raises, with a category that callers and tests can rely on."""

from __future__ import annotations

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
