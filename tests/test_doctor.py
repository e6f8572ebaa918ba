"""`mcp-server-kie doctor`: passes in sandbox mode, explains a public URL that does not reach
this machine and a missing key, and never prints a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from postgres_server import new_database
from support import SANDBOX_KEY, free_port


def doctor(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    return subprocess.run(
        [sys.executable, "-m", "mcp_server_kie", "doctor", "--data-dir", str(data_dir), *args],
        env={**clean, "KIE_LOG_LEVEL": "WARNING", **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_doctor_passes_every_check_in_sandbox_mode(tmp_path: Path) -> None:
    done = doctor(tmp_path, "--sandbox", "--port", str(free_port()))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("[ok]") == 6 and "[FAIL]" not in done.stdout
    assert "[ok] database: SQLite" in done.stdout
    assert "reached this server's sidecar" in done.stdout
    for host in ("Claude Desktop", "Claude Code", "Cursor", "VS Code"):
        assert host in done.stdout
    assert '"mcpServers"' in done.stdout and "claude mcp add kie" in done.stdout
    assert "mcp-server-kie install HOST --sandbox" in done.stdout  # points to install


def test_doctor_checks_the_database(tmp_path: Path, postgres_server: str) -> None:
    database = new_database(postgres_server)
    done = doctor(tmp_path, "--sandbox", "--port", str(free_port()), KIE_DATABASE_URL=database)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[ok] database: PostgreSQL 127.0.0.1:" in done.stdout
    nowhere = f"postgresql://kie:secret-pw@127.0.0.1:{free_port()}/kie"
    done = doctor(tmp_path, "--sandbox", "--port", str(free_port()), KIE_DATABASE_URL=nowhere)
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if "database" in line)
    assert "[FAIL]" in line and "KIE_DATABASE_URL" in line and "did not accept" in line
    assert "secret-pw" not in done.stdout + done.stderr
    done = doctor(tmp_path, "--sandbox", KIE_DATABASE_URL="mysql://db/kie")
    assert done.returncode == 1 and "'mysql' is not one of them" in done.stdout


def test_doctor_explains_an_unreachable_public_url(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    done = doctor(tmp_path, "--sandbox", KIE_PUBLIC_URL=nowhere, KIE_WEBHOOK_PORT="0")
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if "webhooks" in line)
    assert "[FAIL]" in line and nowhere in line and "did not reach this machine" in line
    assert "tunnel" in line and "unset KIE_PUBLIC_URL" in line


def test_doctor_explains_a_missing_key_and_never_prints_one(tmp_path: Path) -> None:
    missing = doctor(tmp_path, KIE_WEBHOOK_PORT="0")
    assert missing.returncode == 1
    assert "[FAIL] kie.ai API key" in missing.stdout and "https://kie.ai/api-key" in missing.stdout
    wrong = doctor(
        tmp_path,
        KIE_WEBHOOK_PORT="0",
        KIE_API_KEY=SANDBOX_KEY,
        KIE_BASE_URL=f"http://127.0.0.1:{free_port()}",
    )
    assert wrong.returncode == 1
    assert SANDBOX_KEY not in wrong.stdout + wrong.stderr
    assert "your-kie-api-key" in wrong.stdout  # the placeholder, as in the README


def test_doctor_is_quiet_and_creates_nothing_in_the_data_folder(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    data = tmp_path / "data"
    data.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server_kie", "doctor", "--sandbox", "--data-dir", str(data)],
        env={**clean, "KIE_WEBHOOK_PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "", done.stderr  # no INFO migration lines, no "gallery: open"
    assert "gallery: open" not in done.stdout
    assert list(data.iterdir()) == []
    missing = tmp_path / "not-yet"
    again = doctor(missing, "--sandbox", "--port", str(free_port()))
    assert again.returncode == 0 and "will be created on first start" in again.stdout
    assert not missing.exists()


def test_doctor_snippets_match_the_readme(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("### Claude Desktop", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    documented = json.loads(block)["mcpServers"]["kie"]
    real = doctor(tmp_path, "--port", str(free_port()), KIE_API_KEY=SANDBOX_KEY).stdout
    sandbox = doctor(tmp_path, "--sandbox", "--port", str(free_port())).stdout
    printed = _desktop_entry(real)
    assert printed.keys() == documented.keys()
    assert printed["env"] == documented["env"]  # the same placeholder, never the key
    assert Path(printed["command"]).is_file()
    assert "/absolute/path" not in real
    sandboxed = _desktop_entry(sandbox)
    assert sandboxed["args"] == ["--sandbox"] and "env" not in sandboxed
    assert "KIE_SANDBOX" not in sandbox
    assert "--sandbox" in next(line for line in sandbox.splitlines() if "claude mcp add" in line)


def _desktop_entry(report: str) -> dict[str, object]:
    text = report.split("Claude Desktop (", 1)[1].split("\n", 1)[1]
    decoded, _end = json.JSONDecoder().raw_decode(text)
    return dict(decoded["mcpServers"]["kie"])
