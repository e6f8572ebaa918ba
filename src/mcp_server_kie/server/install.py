"""`mcp-server-kie install HOST`: add this installation to an MCP host's configuration file.

The host's file is read as JSON and only this server's entry changes: other servers, unknown
keys (in the file and in the entry) and the entry's other environment variables stay. The old
file is copied to a timestamped backup before anything is written; the new one replaces it
atomically. Running it twice changes nothing the second time. `--dry-run` prints the change
as a unified diff and writes nothing. The API key comes from KIE_API_KEY in the environment
(or stays what the entry already has); it is written to the file the host reads, and never
printed.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_server_kie.server.hosts import HOSTS, Host, Launch, this_installation

Say = Callable[[str], None]
MASK = "********"
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|AUTH|CREDENTIAL")


class InstallError(Exception):
    """Why the file was left alone, in a sentence for the user."""


@dataclass
class Change:
    path: Path
    old: str | None  # None: the file does not exist yet
    new: str
    secrets: frozenset[str]  # values to mask when showing the change (keys, tokens)

    @property
    def needed(self) -> bool:
        return self.old != self.new

    def diff(self) -> str:
        def masked(text: str | None) -> list[str]:
            if not text:
                return []
            for secret in sorted(self.secrets, key=len, reverse=True):
                text = text.replace(json.dumps(secret), json.dumps(MASK))
            return text.splitlines(keepends=True)

        old_name = str(self.path) if self.old is not None else "/dev/null"
        lines = difflib.unified_diff(
            masked(self.old), masked(self.new), fromfile=old_name, tofile=str(self.path)
        )
        return "".join(lines)


def _read(path: Path) -> tuple[str | None, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, {}
    if not text.strip():
        return text, {}
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise InstallError(
            f"{path} is not plain JSON ({exc}); it may hold comments. Nothing was changed: add "
            "the entry `mcp-server-kie doctor` prints by hand."
        ) from None
    if not isinstance(config, dict):
        raise InstallError(f"{path} does not hold a JSON object; nothing was changed.")
    return text, config


def plan(
    host: Host,
    launch: Launch,
    *,
    name: str = "kie",
    environ: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
) -> Change:
    """The change `install` would make to ``host``'s file (nothing is written)."""
    path = host.config_path(platform, environ)
    old, config = _read(path)
    servers = config.setdefault(host.servers_key, {})
    if not isinstance(servers, dict):
        raise InstallError(f'"{host.servers_key}" in {path} is not an object; nothing changed.')
    current = servers.get(name)
    entry: dict[str, Any] = dict(current) if isinstance(current, dict) else {}
    wanted = host.entry(launch)
    env = dict(entry.get("env") or {})
    key = env.get("KIE_API_KEY")
    if "--sandbox" not in launch.args:
        key = (environ.get("KIE_API_KEY") or "").strip() or key
        if not key:
            raise InstallError(
                "No kie.ai API key: set KIE_API_KEY in this shell (it is written to the host's "
                "file, never printed), or install the sandbox with --sandbox. Nothing changed."
            )
        env["KIE_API_KEY"] = key
    env.update({k: v for k, v in wanted.pop("env", {}).items() if k != "KIE_API_KEY"})
    entry.update(wanted)
    if not launch.args:
        entry.pop("args", None)
    if env:
        entry["env"] = env
    servers[name] = entry
    new = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if old is not None and json.loads(old or "{}") == config:
        new = old  # same content: leave the user's formatting alone
    return Change(path, old, new, _secrets(config) | _secrets(json.loads(old or "{}")))


def _secrets(config: object) -> frozenset[str]:
    """Every environment value of every server whose name looks secret, in any host's file."""
    found: set[str] = set()
    if isinstance(config, dict):
        for name, value in config.items():
            if name == "env" and isinstance(value, dict):
                found |= {
                    v
                    for k, v in value.items()
                    if isinstance(v, str) and v and SECRET_NAME.search(k.upper())
                }
            else:
                found |= _secrets(value)
    return frozenset(found)


def apply(change: Change) -> Path | None:
    """Write the change; the backup's path (None when there was no file before)."""
    backup = None
    change.path.parent.mkdir(parents=True, exist_ok=True)
    if change.old is not None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = change.path.with_name(f"{change.path.name}.backup-{stamp}")
        shutil.copy2(change.path, backup)
    handle, temporary = tempfile.mkstemp(dir=change.path.parent, prefix=f".{change.path.name}-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(change.new)
        if change.old is not None:
            shutil.copymode(change.path, temporary)  # else mkstemp's 0600: it holds a key
        os.replace(temporary, change.path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return backup


def run_install(
    host_name: str,
    *,
    sandbox: bool,
    dry_run: bool,
    name: str = "kie",
    extra_args: list[str] | None = None,
    environ: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
    say: Say = print,
) -> int:
    host = HOSTS[host_name]
    launch = this_installation(sandbox=sandbox, api_key=None)
    launch = Launch(launch.command, [*launch.args, *(extra_args or [])], launch.env)
    try:
        change = plan(host, launch, name=name, environ=environ, platform=platform)
    except InstallError as exc:
        say(f"mcp-server-kie install: {exc}")
        return 1
    if not change.needed:
        say(f"{host.title}: {change.path} already has this entry for {name!r}; nothing to do.")
        return 0
    if dry_run:
        say(f"Would change {change.path} (nothing written; the key is shown as {MASK};")
        say(f"the file's format: {host.documented}):")
        say(change.diff().rstrip("\n"))
        return 0
    backup = apply(change)
    saved = f" (the old file is saved as {backup})" if backup else ""
    say(f"{host.title}: wrote the {name!r} server to {change.path}{saved}.")
    say(f"Restart {host.title} to load it; `mcp-server-kie doctor` checks the set-up.")
    return 0
