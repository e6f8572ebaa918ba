"""`mcp-server-kie doctor`: check the set-up and explain, in plain words, what to fix.

Checks the API key (a real balance request), the data directory and database, the media
store (a put/get/delete round trip, folder or bucket), the webhook port and, when
KIE_PUBLIC_URL is set, that a request sent to that public URL really reaches a sidecar (a
self-addressed probe). Then prints configuration snippets for the common hosts with this
machine's paths (the same entries `mcp-server-kie install HOST` writes). Never prints a
secret, and changes nothing: the data folder is only inspected, and the probe runtime keeps
its database in a temporary folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2

from mcp_server_kie.config import MISSING_KEY_MESSAGE, Settings
from mcp_server_kie.jobs import ProviderError
from mcp_server_kie.media import MediaStoreError
from mcp_server_kie.server.hosts import HOSTS, claude_code_command, this_installation
from mcp_server_kie.server.ports import describe_owner, owner_of, url_for
from mcp_server_kie.server.runtime import Runtime, open_runtime
from mcp_server_kie.server.sidecar import instance_id
from mcp_server_kie.storage import BadDatabaseUrl, DatabaseUnavailable, Store
from mcp_server_kie.storage.backends import is_postgres, sqlite_path
from mcp_server_kie.storage.failures import explain_storage_failure

Say = Callable[[str], None]
# Room for a few videos; below this, downloads would soon fail.
_MIN_FREE_BYTES = 50 * 1024 * 1024


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


async def run_doctor(settings: Settings, say: Say = print) -> int:
    """Run every check, print the results and the host snippets; 0 when all pass."""
    checks = [
        _check_data_dir(settings),
        await _check_port(settings),
        await _check_database(settings),
    ]
    with tempfile.TemporaryDirectory(prefix="kie-doctor-") as scratch:
        # The probe runtime gets a throw-away data folder: nothing is created in the user's.
        # (A PostgreSQL database it uses as it is: opening it creates nothing new.)
        update: dict[str, object] = {"data_dir": Path(scratch)}
        if not is_postgres(settings.database_url):
            update["database_url"] = None
        if _bind_error(settings) is not None:
            update["webhook_port"] = 0  # the port's owner answers the public URL probe
        if checks[2].ok:
            async with open_runtime(settings.model_copy(update=update)) as runtime:
                checks.append(await _check_key(runtime))
                checks.append(await _check_media(runtime))
                checks.append(await _check_public_url(runtime, instance_id(settings.database_path)))
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
    """Read-only: the folder (or the nearest folder above it that exists) must be writable."""
    directory = settings.resolved_data_dir
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return Check(
            "data directory",
            False,
            f"cannot write to {existing}. Set KIE_DATA_DIR to a folder you own, or fix its "
            "permissions.",
        )
    if existing != directory:
        return Check("data directory", True, f"{directory} will be created on first start")
    state = "has a library" if settings.database_path.exists() else "is empty so far"
    return Check("data directory", True, f"{directory} is writable and {state}")


async def _check_database(settings: Settings) -> Check:
    """Opens the configured database (a SQLite file only if it exists: nothing is created)."""
    try:
        path = sqlite_path(settings.database_url, settings.database_path)
    except BadDatabaseUrl as exc:
        return Check("database", False, str(exc))
    if path is not None and (fault := _check_database_file(path)) is not None:
        return fault
    if path is not None and not path.exists():
        return Check("database", True, f"SQLite {path} will be created on first start")
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


def _check_database_file(database: Path) -> Check | None:
    """A SQLite file's failure, if any: it must read back whole (a damaged or truncated file
    is named) and its disk must have room for results. None: no fault found."""
    free = shutil.disk_usage(database.parent).free if database.parent.exists() else None
    if free is not None and free < _MIN_FREE_BYTES:
        full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(database.parent))
        return Check("database", False, explain_storage_failure(full, database) or "")
    if not database.exists():
        return None
    try:
        uri = f"{database.as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            verdict = str(conn.execute("PRAGMA quick_check").fetchone()[0])
    except sqlite3.Error as exc:
        explained = explain_storage_failure(exc, database)
        return Check("database", False, explained or f"cannot read {database}: {exc}")
    if verdict != "ok":
        damaged = sqlite3.DatabaseError(f"database disk image is malformed: {verdict}")
        return Check("database", False, explain_storage_failure(damaged, database) or verdict)
    return None


def _bind_error(settings: Settings) -> OSError | None:
    """Why the webhook port cannot be bound now (None: it can, or any port will do)."""
    host, port = settings.webhook_host, settings.webhook_port
    if port == 0:
        return None
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc
    return None


async def _check_port(settings: Settings) -> Check:
    host, port = settings.webhook_host, settings.webhook_port
    if port == 0:
        return Check("webhook port", True, "any free port will be used (KIE_WEBHOOK_PORT=0)")
    exc = _bind_error(settings)
    if exc is None:
        return Check("webhook port", True, f"{host}:{port} is free")
    owner = await owner_of(url_for(host, port))
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
        f"{host}:{port} is taken ({exc.strerror}) by "
        f"{describe_owner(owner, settings.database_path)}: this server would listen on a "
        "random free port instead, so its gallery address changes and callbacks sent to that "
        "port miss it. Give each server its own KIE_WEBHOOK_PORT (and point your tunnel at it).",
    )


async def _check_key(runtime: Runtime) -> Check:
    if runtime.tools.setup_error:
        return Check("kie.ai API key", False, MISSING_KEY_MESSAGE)
    try:
        balance = await runtime.engine.credits()
    except ProviderError as exc:
        return Check("kie.ai API key", False, str(exc))
    where = "the sandbox simulator" if runtime.settings.sandbox else "kie.ai"
    return Check("kie.ai API key", True, f"{where} accepted it; balance {balance:g} credits")


async def _check_media(runtime: Runtime) -> Check:
    media = runtime.tools.library.media
    try:
        await media.probe(write=True)
    except MediaStoreError as exc:
        return Check(
            "media store",
            False,
            f"{exc}. Check KIE_MEDIA_URL and, for s3://, the bucket and the AWS_ENDPOINT_URL, "
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION variables.",
        )
    return Check("media store", True, f"{media.root} ({media.backend}): put, get and delete work")


async def _check_public_url(runtime: Runtime, configured: str) -> Check:
    public = runtime.engine.public_url
    if public is None:
        return Check(
            "webhooks",
            True,
            "KIE_PUBLIC_URL is not set, so jobs finish by polling (a few seconds slower). To "
            "get callbacks, expose the webhook port through a tunnel and set KIE_PUBLIC_URL.",
        )
    # The doctor's own probe runtime, or the server already serving this data folder.
    expected = {instance_id(runtime.settings.database_path), configured}
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
    if not isinstance(answer, dict) or answer.get("instance") not in expected:
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


def host_snippets(settings: Settings) -> str:
    """Configuration for each host on this machine: what `mcp-server-kie install` writes."""
    launch = this_installation(sandbox=settings.sandbox)
    sandbox = " --sandbox" if settings.sandbox else ""
    lines = [
        f"Let `mcp-server-kie install HOST{sandbox}` write one of these for you (HOST: "
        f"{', '.join(HOSTS)}; --dry-run shows the change first; the key is read from "
        "KIE_API_KEY and never printed). By hand:",
    ]
    for host in HOSTS.values():
        if host.name == "claude-code":
            lines += ["", "Claude Code:", f"  {claude_code_command(launch)}"]
            continue
        config = {host.servers_key: {"kie": host.entry(launch)}}
        lines += ["", f"{host.title} ({host.config_path()}):", json.dumps(config, indent=2)]
    return "\n".join(lines)
