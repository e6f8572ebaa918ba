"""Spend limits and idempotency, checked before anything is sent to kie.ai.

The per-job limit needs nothing but the price. The daily limit and idempotency are decided by
the store in the transaction that writes the job, so they hold across every process and replica
sharing the database; this module words the refusals.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping

from mcp_server_kie.domain import MediaKind, UserInputError
from mcp_server_kie.storage import Store
from mcp_server_kie.storage.store import DAY_SECONDS


class Budget:
    def __init__(self, per_job: float | None, per_day: float | None) -> None:
        self.per_job = per_job
        self.per_day = per_day

    def check(self, model: str, expected: float | None) -> None:
        """Raise UserInputError (with a message for the user) if this job alone breaks a limit,
        or if its cost is unknown while a limit is set."""
        if self.per_job is None and self.per_day is None:
            return
        if expected is None:
            raise UserInputError(
                f"The cost of this {model} request is unknown, so it cannot be checked against "
                "the spending limits set on this server (KIE_MAX_CREDITS_PER_JOB / "
                "KIE_MAX_CREDITS_PER_DAY). Pick a model with a listed price (list_models)."
            )
        if self.per_job is not None and expected > self.per_job:
            raise UserInputError(
                f"This {model} request is expected to cost {expected:g} credits "
                f"(${expected * 0.005:.2f}), over this server's limit of {self.per_job:g} "
                "credits per job (KIE_MAX_CREDITS_PER_JOB). Nothing was sent. Ask the user "
                "before choosing a cheaper model or settings, or to raise the limit."
            )

    async def check_today(self, store: Store, model: str, expected: float | None) -> None:
        """The daily limit, for a caller with work to do before submitting (an upload): the
        store decides it again, atomically, when the job is written."""
        if self.per_day is None:
            return
        committed = await store.credits_committed_since(time.time() - DAY_SECONDS)
        if committed + (expected or 0.0) > self.per_day:
            raise UserInputError(self.over_daily_limit(model, expected, committed))

    def over_daily_limit(self, model: str, expected: float | None, committed: float) -> str:
        assert self.per_day is not None  # refused only under a daily limit
        return (
            f"This {model} request is expected to cost {expected or 0:g} credits, and "
            f"{committed:g} have been spent or committed in the last 24 hours; together "
            f"that is over this server's limit of {self.per_day:g} credits per day "
            "(KIE_MAX_CREDITS_PER_DAY). Nothing was sent. Tell the user; the limit "
            "frees up as the day's jobs age out."
        )


def request_fingerprint(
    kind: MediaKind, prompt: str, model: str | None, arguments: Mapping[str, object]
) -> str:
    """A hash of a generate call as the caller made it (arguments left unset are left out), so
    a retry with the same idempotency key can be told from a different request reusing it."""
    given = {k: v for k, v in arguments.items() if v is not None}
    canonical = json.dumps(
        {"kind": kind.value, "prompt": prompt, "model": model, "arguments": given},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def reused_key_message(key: str, job_id: str) -> str:
    return (
        f"The idempotency_key {key!r} was already used for a different request (job {job_id}: "
        "another prompt, kind, model or arguments). Nothing was sent. Use a new key for a new "
        f"request, or call get_status('{job_id}') for the earlier job."
    )
