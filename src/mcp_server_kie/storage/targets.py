"""What checking a callback needs (the job's token hash and kie task id, and the API family
that reads the task, with the job's kind and creation time that place its files), remembered
for the jobs this process created and submitted, so a callback for one of them is checked,
its task read and its claimed result downloaded without a read from the database.

The family, kind and creation time are the job's from the start; the other two are set once and
never change: the token hash when the job is written, the task id when the job leaves pending
(mark_submitted, adopt_task, both only from pending). So a pair remembered here is the pair in
the database, in every process; only a job deleted since (by the library's clean-up, which
deletes ended jobs only) is missing there, and the store's write of the delivery finds that out
in its own transaction. A job without its task id yet is always read from the database (another
process may have recorded it). Bounded: the oldest go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from mcp_server_kie.domain import ApiFamily, MediaKind

MAX_REMEMBERED = 10_000  # a few hundred bytes each


class CallbackTarget(NamedTuple):
    """What checking a callback for a job needs, read in one query."""

    token_hash: str | None
    task_id: str | None
    family: ApiFamily
    kind: MediaKind
    created_at: float


class KnownTargets:
    def __init__(self, max_remembered: int = MAX_REMEMBERED) -> None:
        self._max = max_remembered
        self._targets: OrderedDict[str, CallbackTarget] = OrderedDict()

    def __len__(self) -> int:
        return len(self._targets)

    def created(
        self,
        job_id: str,
        token_hash: str | None,
        family: ApiFamily,
        kind: MediaKind,
        created_at: float,
    ) -> None:
        """A job this process has just written (its task id comes later)."""
        if token_hash is None:
            return
        self._targets[job_id] = CallbackTarget(token_hash, None, family, kind, created_at)
        if len(self._targets) > self._max:
            self._targets.popitem(last=False)

    def submitted(self, job_id: str, task_id: str) -> None:
        """The job left pending with ``task_id`` (committed)."""
        known = self._targets.get(job_id)
        if known is not None:
            self._targets[job_id] = known._replace(task_id=task_id)

    def get(self, job_id: str) -> CallbackTarget | None:
        """The job's pair, when both are known here; None means: read the database."""
        known = self._targets.get(job_id)
        return known if known is not None and known.task_id is not None else None
