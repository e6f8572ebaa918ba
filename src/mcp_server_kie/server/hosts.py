"""The MCP hosts this server installs into: where each keeps its configuration, and the entry
that starts this installation. Used by `doctor` (snippets) and `install` (the file itself).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEY_PLACEHOLDER = "your-kie-api-key"


@dataclass(frozen=True)
class Launch:
    """How a host starts this server: a command, its arguments and environment."""

    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Host:
    name: str
    title: str
    servers_key: str  # the object holding one entry per server
    typed: bool  # entries carry "type": "stdio"
    documented: str  # where the host documents this file

    def entry(self, launch: Launch) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": "stdio"} if self.typed else {}
        entry["command"] = launch.command
        if launch.args:
            entry["args"] = list(launch.args)
        if launch.env:
            entry["env"] = dict(launch.env)
        return entry

    def config_path(
        self, platform: str = sys.platform, environ: Mapping[str, str] = os.environ
    ) -> Path:
        """The host's user-level configuration file on this operating system."""
        home = Path(environ.get("HOME") or environ.get("USERPROFILE") or Path.home())
        appdata = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
        xdg = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        support = home / "Library" / "Application Support"
        if self.name == "claude-desktop":
            base = (
                support if platform == "darwin" else appdata if platform == "win32" else xdg
            ) / "Claude"
            return base / "claude_desktop_config.json"
        if self.name == "vscode":
            base = support if platform == "darwin" else appdata if platform == "win32" else xdg
            return base / "Code" / "User" / "mcp.json"
        if self.name == "claude-code":
            return home / ".claude.json"
        if self.name == "cursor":
            return home / ".cursor" / "mcp.json"
        return home / ".codeium" / "windsurf" / "mcp_config.json"


HOSTS: dict[str, Host] = {
    host.name: host
    for host in (
        Host(
            "claude-desktop",
            "Claude Desktop",
            "mcpServers",
            typed=False,
            documented="https://modelcontextprotocol.io/quickstart/user",
        ),
        Host(
            "claude-code",
            "Claude Code",
            "mcpServers",
            typed=True,
            documented="https://docs.anthropic.com/en/docs/claude-code/mcp (user scope)",
        ),
        Host(
            "cursor",
            "Cursor",
            "mcpServers",
            typed=False,
            documented="https://docs.cursor.com/context/model-context-protocol",
        ),
        Host(
            "vscode",
            "VS Code",
            "servers",
            typed=True,
            documented="https://code.visualstudio.com/docs/copilot/chat/mcp-servers",
        ),
        Host(
            "windsurf",
            "Windsurf",
            "mcpServers",
            typed=False,
            documented="https://docs.windsurf.com/windsurf/cascade/mcp",
        ),
    )
}


def this_installation(*, sandbox: bool, api_key: str | None = KEY_PLACEHOLDER) -> Launch:
    """The command that starts this very installation, with absolute paths."""
    args = ["--sandbox"] if sandbox else []
    env = {} if sandbox or api_key is None else {"KIE_API_KEY": api_key}
    executable = Path(sys.executable)
    if "archive-v" in executable.as_posix() and shutil.which("uvx"):
        # Started by `uvx mcp-server-kie`: its cache folder is not a stable path.
        return Launch(str(shutil.which("uvx")), ["mcp-server-kie", *args], env)
    beside = executable.parent / ("mcp-server-kie.exe" if os.name == "nt" else "mcp-server-kie")
    script = str(beside) if beside.is_file() else shutil.which("mcp-server-kie")
    if script:
        return Launch(str(Path(script).absolute()), args, env)
    return Launch(sys.executable, ["-m", "mcp_server_kie", *args], env)


def claude_code_command(launch: Launch, name: str = "kie") -> str:
    flags = "".join(f" -e {key}={value}" for key, value in launch.env.items())
    return f"claude mcp add {name}{flags} -- {' '.join([launch.command, *launch.args])}"
