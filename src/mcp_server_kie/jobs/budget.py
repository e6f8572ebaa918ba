"""Spend limits, checked before anything is sent to kie.ai."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp_server_kie.domain import UserInputError
from mcp_server_kie.storage import Store

DAY_SECONDS = 24 * 60 * 60


class Budget:
    def __init__(self, store: Store, per_job: float | None, per_day: float | None) -> None:
        self._store = store
        self._per_job = per_job
        self._per_day = per_day
        self._lock = asyncio.Lock()
        self._reserved = 0.0  # jobs checked but whose rows are not written yet

    @asynccontextmanager
    async def reserve(self, model: str, expected: float | None) -> AsyncIterator[None]:
        """Hold ``expected`` credits against the limits while the job is being submitted, so
        concurrent requests cannot slip past the daily limit together. Raises UserInputError
        (with a message for the user) if a limit would be broken."""
        async with self._lock:
            await self._check(model, expected)
            held = expected or 0.0
            self._reserved += held
        try:
            yield
        finally:
            self._reserved -= held

    async def _check(self, model: str, expected: float | None) -> None:
        if self._per_job is None and self._per_day is None:
            return
        if expected is None:
            raise UserInputError(
                f"The cost of this {model} request is unknown, so it cannot be checked against "
                "the spending limits set on this server (KIE_MAX_CREDITS_PER_JOB / "
                "KIE_MAX_CREDITS_PER_DAY). Pick a model with a listed price (list_models)."
            )
        if self._per_job is not None and expected > self._per_job:
            raise UserInputError(
                f"This {model} request is expected to cost {expected:g} credits "
                f"(${expected * 0.005:.2f}), over this server's limit of {self._per_job:g} "
                "credits per job (KIE_MAX_CREDITS_PER_JOB). Nothing was sent. Ask the user "
                "before choosing a cheaper model or settings, or to raise the limit."
            )
        if self._per_day is not None:
            spent = await self._store.credits_committed_since(time.time() - DAY_SECONDS)
            spent += self._reserved
            if spent + expected > self._per_day:
                raise UserInputError(
                    f"This {model} request is expected to cost {expected:g} credits, and "
                    f"{spent:g} have been spent or committed in the last 24 hours; together "
                    f"that is over this server's limit of {self._per_day:g} credits per day "
                    "(KIE_MAX_CREDITS_PER_DAY). Nothing was sent. Tell the user; the limit "
                    "frees up as the day's jobs age out."
                )
