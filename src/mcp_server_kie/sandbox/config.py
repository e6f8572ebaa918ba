"""How a sandbox behaves: its fixed configuration and the faults a test can switch on."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SandboxConfig:
    """Fixed settings of one sandbox. All durations are in seconds of `clock`."""

    api_key: str = field(default="sandbox-key", repr=False)
    image_seconds: float = 1.0
    video_seconds: float = 3.0
    hmac_key: str | None = field(default=None, repr=False)
    initial_credits: float = 10_000.0
    create_rate_limit: int = 20
    create_rate_window: float = 10.0
    callback_timeout: float = 15.0
    callback_attempts: int = 4
    clock: Callable[[], float] = time.time
    state_path: Path | None = None  # keep tasks and balance here across restarts (journal.py)


@dataclass(frozen=True, slots=True)
class RecordFault:
    """One scripted misbehaviour of a status query. Build it with a constructor below."""

    status: int | None = None
    retry_after: float | None = None
    reset: bool = False
    stall: float = 0.0

    @classmethod
    def http(cls, status: int, retry_after: float | None = None) -> RecordFault:
        """Answer with this HTTP status, the same code in the body, and optionally a
        `Retry-After: <seconds>` header (429 with Retry-After is how a gateway says it)."""
        return cls(status=status, retry_after=retry_after)

    @classmethod
    def connection_reset(cls) -> RecordFault:
        """Drop the connection without any answer (a TCP reset). Needs a served sandbox
        (`serve_sandbox`); in-process, over ASGI, it answers a body-less HTTP 502 instead."""
        return cls(reset=True)

    @classmethod
    def stalled(cls, seconds: float) -> RecordFault:
        """Hold the answer back for `seconds`, or until the client hangs up; then answer
        normally (to nobody, if the client gave up)."""
        return cls(stall=seconds)


@dataclass
class Faults:
    """Misbehaviour a test can program. Plain attributes; change them at any time. They apply
    to every family (market createTask/recordInfo and the 4o, Veo and Runway equivalents).

    - `create_delay`: seconds to wait before answering a create, after the task is created
      (simulates a create whose answer arrives late or never reaches a client that times out).
    - `create_status`: answer the next create with this business code and no task, then reset.
    - `record_faults`: the next status queries each take one RecordFault from the front, in
      order, and misbehave as it says (e.g. `extend([RecordFault.http(429, retry_after=3)] * 2)`
      for two rate-limited answers). Empty: normal answers.
    - `record_info_http_status`: answer every record query with this HTTP status until set back
      to None (after any scripted `record_faults`).
    - `drop_callbacks`: tasks that finish while this is set never get a callback.
    - `discovery_status`: answer the model discovery endpoints (`/api/v1/models...`) with this
      HTTP status and body code until set back to None.
    """

    create_delay: float = 0.0
    create_status: int | None = None
    record_faults: deque[RecordFault] = field(default_factory=deque)
    record_info_http_status: int | None = None
    drop_callbacks: bool = False
    discovery_status: int | None = None
