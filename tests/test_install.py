"""`mcp-server-kie install HOST` on temporary home folders: writes the host's file, keeps the
user's other servers and unknown keys, backs up, is idempotent, shows a masked diff with
--dry-run, refuses what it cannot parse, and never prints the key (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_server_kie.server.hosts import HOSTS
from mcp_server_kie.server.install import run_install

KEY = "kie-secret-key-0123456789"


def install(home: Path, host: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "XDG_"))}
    return subprocess.run(
        [sys.executable, "-m", "mcp_server_kie", "install", host, *args],
        env={**clean, "HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.backup-*"))


def test_install_adds_the_server_and_keeps_everything_else(tmp_path: Path) -> None:
    path = tmp_path / ".config" / "Claude" / "claude_desktop_config.json"
    path.parent.mkdir(parents=True)
    original = {
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {
            "files": {"command": "npx", "args": ["-y", "server-files", "/tmp"]},
            "kie": {"command": "/old/path", "disabled": False, "env": {"KIE_LOG_LEVEL": "DEBUG"}},
        },
    }
    path.write_text(json.dumps(original, indent=4))
    done = install(tmp_path, "claude-desktop", KIE_API_KEY=KEY)
    assert done.returncode == 0, done.stdout + done.stderr
    assert KEY not in done.stdout + done.stderr
    config = json.loads(path.read_text())
    assert config["globalShortcut"] == "Ctrl+Space"
    assert config["mcpServers"]["files"] == original["mcpServers"]["files"]  # type: ignore[index]
    entry = config["mcpServers"]["kie"]
    assert entry["disabled"] is False  # an unknown key of our own entry stays
    assert entry["env"] == {"KIE_LOG_LEVEL": "DEBUG", "KIE_API_KEY": KEY}
    assert Path(entry["command"]).is_file() and "args" not in entry
    [backup] = backups(path)
    assert json.loads(backup.read_text()) == original

    again = install(tmp_path, "claude-desktop", KIE_API_KEY=KEY)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert json.loads(path.read_text()) == config and len(backups(path)) == 1


def test_dry_run_prints_the_exact_change_masked_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / ".cursor" / "mcp.json"
    path.parent.mkdir(parents=True)
    before = json.dumps({"mcpServers": {"other": {"command": "x", "env": {"TOKEN": "tok-1"}}}})
    path.write_text(before)
    done = install(tmp_path, "cursor", "--dry-run", KIE_API_KEY=KEY)
    assert done.returncode == 0, done.stderr
    assert path.read_text() == before and not backups(path)
    assert KEY not in done.stdout and "tok-1" not in done.stdout
    assert f"--- {path}" in done.stdout and f"+++ {path}" in done.stdout
    assert '+    "kie": {' in done.stdout and '"KIE_API_KEY": "********"' in done.stdout


def test_a_new_file_is_created_private_and_sandbox_needs_no_key(tmp_path: Path) -> None:
    done = install(tmp_path, "vscode", "--sandbox")
    assert done.returncode == 0, done.stdout + done.stderr
    path = tmp_path / ".config" / "Code" / "User" / "mcp.json"
    entry = json.loads(path.read_text())["servers"]["kie"]
    assert entry["type"] == "stdio" and entry["args"] == ["--sandbox"] and "env" not in entry
    assert path.stat().st_mode & 0o077 == 0
    assert not backups(path)


def test_without_a_key_or_with_a_commented_file_nothing_changes(tmp_path: Path) -> None:
    missing = install(tmp_path, "windsurf")
    assert missing.returncode == 1 and "KIE_API_KEY" in missing.stdout
    assert not (tmp_path / ".codeium").exists()
    path = tmp_path / ".claude.json"
    commented = '{\n  // my servers\n  "mcpServers": {}\n}\n'
    path.write_text(commented)
    refused = install(tmp_path, "claude-code", KIE_API_KEY=KEY)
    assert refused.returncode == 1 and "not plain JSON" in refused.stdout
    assert path.read_text() == commented and not backups(path)


@pytest.mark.parametrize(
    ("host", "platform", "expected"),
    [
        (
            "claude-desktop",
            "darwin",
            "Library/Application Support/Claude/claude_desktop_config.json",
        ),
        ("claude-desktop", "win32", "AppData/Roaming/Claude/claude_desktop_config.json"),
        ("claude-desktop", "linux", ".config/Claude/claude_desktop_config.json"),
        ("vscode", "darwin", "Library/Application Support/Code/User/mcp.json"),
        ("vscode", "win32", "AppData/Roaming/Code/User/mcp.json"),
        ("vscode", "linux", ".config/Code/User/mcp.json"),
        ("claude-code", "win32", ".claude.json"),
        ("cursor", "darwin", ".cursor/mcp.json"),
        ("windsurf", "linux", ".codeium/windsurf/mcp_config.json"),
    ],
)
def test_config_paths_per_operating_system(host: str, platform: str, expected: str) -> None:
    home = Path("/home/someone")
    assert HOSTS[host].config_path(platform, {"HOME": str(home)}) == home / expected


def test_claude_code_entries_are_typed_in_the_user_file(tmp_path: Path) -> None:
    said: list[str] = []
    environ = {"HOME": str(tmp_path), "KIE_API_KEY": KEY}
    code = run_install(
        "claude-code",
        sandbox=False,
        dry_run=False,
        environ=environ,
        platform="linux",
        say=said.append,
    )
    assert code == 0 and KEY not in "\n".join(said)
    entry = json.loads((tmp_path / ".claude.json").read_text())["mcpServers"]["kie"]
    assert entry["type"] == "stdio" and entry["env"]["KIE_API_KEY"] == KEY
