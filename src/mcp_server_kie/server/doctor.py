"""`mcp-server-kie doctor`: check the set-up and explain, in plain words, what to fix.

Checks the API key (a real balance request), the data directory and database, the webhook
port and, when KIE_PUBLIC_URL is set, that a request sent to that public URL really reaches
a sidecar serving this data directory (a self-addressed probe). Then prints configuration
snippets for the common hosts with this machine's paths. Never prints a secret.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2

from mcp_server_kie.config import MISSING_KEY_MESSAGE, Settings
from mcp_server_kie.jobs import ProviderError
from mcp_server_kie.server.runtime import Runtime, open_runtime
from mcp_server_kie.server.sidecar import instance_id
from mcp_server_kie.storage import BadDatabaseUrl, DatabaseUnavailable, Store

Say = Callable[[str], None]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


async def run_doctor(settings: Settings, say: Say = print) -> int:
    """Run every check, print the results and the host snippets; 0 when all pass."""
    checks = [_check_data_dir(settings), _check_port(settings), await _check_database(settings)]
    if checks[0].ok and checks[2].ok:
        async with open_runtime(settings) as runtime:
            checks.append(await _check_key(runtime))
            checks.append(await _check_public_url(runtime))
    say(f"mcp-server-kie doctor{' (sandbox mode)' if settings.sandbox else ''}\n")
    for check in checks:
        say(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    failed = [check.name for check in checks if not check.ok]
    say("")
    say("All checks passed." if not failed else f"{len(failed)} check(s) need attention.")
    say("")
    say(host_snippets(settings))
    return 1 if failed else 0


def _check_data_dir(settings: Settings) -> Check:
    directory = settings.resolved_data_dir
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".doctor-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check(
            "data directory",
            False,
            f"cannot write to {directory} ({exc.strerror}). Set KIE_DATA_DIR to a folder you "
            "own, or fix its permissions.",
        )
    return Check("data directory", True, f"{directory} is writable")


async def _check_database(settings: Settings) -> Check:
    try:
        store = await Store.connect(settings.database_url, settings.database_path)
    except (BadDatabaseUrl, DatabaseUnavailable, RuntimeError) as exc:
        return Check("database", False, str(exc))
    except (sqlite3.Error, OSError) as exc:
        return Check("database", False, f"cannot open {settings.database_path}: {exc}")
    try:
        state = await store.check()
        backend = store.backend
    finally:
        await store.close()
    if state != "ok":
        return Check("database", False, f"{backend}: {state}")
    return Check("database", True, f"{backend} answers; schema up to date")


def _check_port(settings: Settings) -> Check:
    host, port = settings.webhook_host, settings.webhook_port
    if port == 0:
        return Check("webhook port", True, "any free port will be used (KIE_WEBHOOK_PORT=0)")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            owner = _sidecar_at(f"http://{'[' + host + ']' if ':' in host else host}:{port}")
            if owner == instance_id(settings.database_path):
                return Check(
                    "webhook port",
                    True,
                    f"{host}:{port} is served by another mcp-server-kie on this data directory "
                    "(fine: it receives the callbacks for both).",
                )
            return Check(
                "webhook port",
                False,
                f"cannot listen on {host}:{port} ({exc.strerror}); something else uses it. "
                "Set KIE_WEBHOOK_PORT to a free port (and point your tunnel at it).",
            )
    return Check("webhook port", True, f"{host}:{port} is free")


async def _check_key(runtime: Runtime) -> Check:
    if runtime.tools.setup_error:
        return Check("kie.ai API key", False, MISSING_KEY_MESSAGE)
    try:
        balance = await runtime.engine.credits()
    except ProviderError as exc:
        return Check("kie.ai API key", False, str(exc))
    where = "the sandbox simulator" if runtime.settings.sandbox else "kie.ai"
    return Check("kie.ai API key", True, f"{where} accepted it; balance {balance:g} credits")


async def _check_public_url(runtime: Runtime) -> Check:
    public = runtime.engine.public_url
    if public is None:
        return Check(
            "webhooks",
            True,
            "KIE_PUBLIC_URL is not set, so jobs finish by polling (a few seconds slower). To "
            "get callbacks, expose the webhook port through a tunnel and set KIE_PUBLIC_URL.",
        )
    expected = instance_id(runtime.settings.database_path)
    try:
        async with httpx2.AsyncClient(timeout=10, follow_redirects=False) as http:
            response = await http.get(f"{public}/healthz")
        answer = response.json() if response.status_code == 200 else {}
    except (httpx2.HTTPError, ValueError) as exc:
        return Check(
            "webhooks",
            False,
            f"KIE_PUBLIC_URL={public} did not reach this machine ({type(exc).__name__}). "
            f"Check that your tunnel or proxy forwards it to {_local_url(runtime)}, or unset "
            "KIE_PUBLIC_URL to finish jobs by polling.",
        )
    if not isinstance(answer, dict) or answer.get("instance") != expected:
        return Check(
            "webhooks",
            False,
            f"KIE_PUBLIC_URL={public} answered, but not from this server (HTTP "
            f"{response.status_code}). Point the tunnel at {_local_url(runtime)}.",
        )
    return Check("webhooks", True, f"a probe sent to {public} reached this server's sidecar")


def _local_url(runtime: Runtime) -> str:
    settings = runtime.settings
    return runtime.sidecar_url or f"http://{settings.webhook_host}:{settings.webhook_port}"


def _sidecar_at(url: str) -> str | None:
    try:
        answer = httpx2.get(f"{url}/healthz", timeout=2).json()
    except (httpx2.HTTPError, ValueError):
        return None
    return answer.get("instance") if isinstance(answer, dict) else None


def host_snippets(settings: Settings) -> str:
    """Configuration for Claude Desktop, Claude Code, Cursor and VS Code on this machine."""
    command, args = _launcher()
    env = {"KIE_API_KEY": "<your kie.ai API key>"}
    if settings.sandbox:
        env = {"KIE_SANDBOX": "1"}
    desktop = {"mcpServers": {"kie": {"command": command, "args": args, "env": env}}}
    vscode = {"servers": {"kie": {"type": "stdio", "command": command, "args": args, "env": env}}}
    env_flags = " ".join(f"-e {key}={value!r}" for key, value in env.items())
    return "\n".join(
        [
            "Claude Desktop (claude_desktop_config.json) and Cursor (~/.cursor/mcp.json):",
            json.dumps(desktop, indent=2),
            "",
            "Claude Code:",
            f"  claude mcp add kie {env_flags} -- {' '.join([command, *args])}",
            "",
            "VS Code (.vscode/mcp.json):",
            json.dumps(vscode, indent=2),
        ]
    )


def _launcher() -> tuple[str, list[str]]:
    beside = Path(sys.executable).parent / "mcp-server-kie"  # the venv this runs from
    script = str(beside) if beside.is_file() else shutil.which("mcp-server-kie")
    if script:
        return str(Path(script).absolute()), []
    return sys.executable, ["-m", "mcp_server_kie"]
