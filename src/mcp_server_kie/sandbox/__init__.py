"""A faithful kie.ai simulator: the market jobs API, 4o Image, Veo 3.1, Runway and Suno, file
uploads, callbacks with HMAC signing, a CDN serving real PNG/JPEG/MP4/MP3/WAV files, credits,
rate limits and programmable faults.

It is an independent implementation of kie's wire contract (it never imports `kie/` or
`catalog/`), so the client and the simulator check each other. Use `Sandbox(...).app` over an
ASGI transport, or `serve_sandbox()` to listen on a loopback port with callbacks running.

Prompt directives (every family): `[sandbox:fail]` ends the task in failure (no charge);
`[sandbox:slow]` makes it take ten times as long.
"""

from mcp_server_kie.sandbox.app import FAMILIES, LoggedRequest
from mcp_server_kie.sandbox.callbacks import CallbackAttempt, sign
from mcp_server_kie.sandbox.config import Faults, RecordFault, SandboxConfig
from mcp_server_kie.sandbox.market import MODELS
from mcp_server_kie.sandbox.models import FieldSpec, ModelSpec
from mcp_server_kie.sandbox.serve import SandboxServerError, serve_sandbox
from mcp_server_kie.sandbox.simulator import Sandbox
from mcp_server_kie.sandbox.tasks import (
    FAIL_DIRECTIVE,
    FAIL_MESSAGE,
    SLOW_DIRECTIVE,
    Family,
    Order,
    Output,
    SimTask,
)
from mcp_server_kie.sandbox.uploads import Upload

__all__ = [
    "FAIL_DIRECTIVE",
    "FAIL_MESSAGE",
    "FAMILIES",
    "MODELS",
    "SLOW_DIRECTIVE",
    "CallbackAttempt",
    "Family",
    "Faults",
    "FieldSpec",
    "LoggedRequest",
    "ModelSpec",
    "Order",
    "Output",
    "RecordFault",
    "Sandbox",
    "SandboxConfig",
    "SandboxServerError",
    "SimTask",
    "Upload",
    "serve_sandbox",
    "sign",
]
