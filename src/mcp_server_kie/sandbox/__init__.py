"""A faithful kie.ai simulator: market jobs API, callbacks with HMAC signing, a CDN serving
real PNG/JPEG/MP4 files, credits, rate limits and programmable faults.

It is an independent implementation of kie's wire contract (it never imports `kie/`), so the
client and the simulator check each other. Use `Sandbox(...).app` over an ASGI transport, or
`serve_sandbox()` to listen on a loopback port with callbacks running.

Prompt directives: `[sandbox:fail]` ends the task in `fail` (no charge); `[sandbox:slow]`
makes it take ten times as long.
"""

from mcp_server_kie.sandbox.app import LoggedRequest
from mcp_server_kie.sandbox.callbacks import CallbackAttempt, sign
from mcp_server_kie.sandbox.config import Faults, SandboxConfig
from mcp_server_kie.sandbox.models import MODELS, FieldSpec, ModelSpec
from mcp_server_kie.sandbox.serve import SandboxServerError, serve_sandbox
from mcp_server_kie.sandbox.simulator import Sandbox
from mcp_server_kie.sandbox.tasks import FAIL_DIRECTIVE, FAIL_MESSAGE, SLOW_DIRECTIVE, SimTask

__all__ = [
    "FAIL_DIRECTIVE",
    "FAIL_MESSAGE",
    "MODELS",
    "SLOW_DIRECTIVE",
    "CallbackAttempt",
    "Faults",
    "FieldSpec",
    "LoggedRequest",
    "ModelSpec",
    "Sandbox",
    "SandboxConfig",
    "SandboxServerError",
    "SimTask",
    "serve_sandbox",
    "sign",
]
