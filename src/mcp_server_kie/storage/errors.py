"""What the store refuses, decided inside one transaction: the caller words the message."""

from __future__ import annotations


class IdempotencyConflict(Exception):
    """The idempotency key already names a job made from a different request."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"idempotency key already used by job {job_id} for another request")
        self.job_id = job_id


class DailyLimitReached(Exception):
    """Creating the job would take the credits committed in the last 24 hours over the limit."""

    def __init__(self, committed: float, limit: float) -> None:
        super().__init__(f"{committed:g} credits committed today; the limit is {limit:g}")
        self.committed = committed
        self.limit = limit


class DatabaseUnavailable(Exception):
    """The configured database cannot be reached or opened; the message says what to fix."""
