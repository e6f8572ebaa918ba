"""How a sandbox behaves: its fixed configuration and the faults a test can switch on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


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


@dataclass
class Faults:
    """Misbehaviour a test can program. Plain attributes; change them at any time. They apply
    to every family (market createTask/recordInfo and the 4o, Veo and Runway equivalents).

    - `create_delay`: seconds to wait before answering a create, after the task is created
      (simulates a create whose answer arrives late or never reaches a client that times out).
    - `create_status`: answer the next create with this business code and no task, then reset.
    - `record_info_http_status`: answer every record query with this HTTP status until set back
      to None.
    - `drop_callbacks`: tasks that finish while this is set never get a callback.
    """

    create_delay: float = 0.0
    create_status: int | None = None
    record_info_http_status: int | None = None
    drop_callbacks: bool = False
