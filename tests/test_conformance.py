"""The official MCP conformance runner (@modelcontextprotocol/conformance, on Node 22 from the
npm registry; scripts/install-conformance) against the real server over HTTP.

Only the scenarios that apply to a server with our tools run (``list`` of runner 0.1.16 has 32
server scenarios). The others exercise fixture tools, prompts and resources of the runner's
reference server: tools-call-simple-text, -image, -audio, -embedded-resource, -mixed-content,
-with-logging, -with-progress, -sampling, -elicitation (``test_*`` tools), json-schema-2020-12
(``json_schema_2020_12_tool``), elicitation-sep1034-defaults and -sep1330-enums,
server-sse-polling (``test_reconnection``), resources-read-text, -read-binary, -templates-read
(``test://...``), prompts-get-simple, -with-args, -embedded-resource, -with-image
(``test_*`` prompts); or capabilities this server does not declare: logging-set-level (logs go
to stderr, not to the client) and completion-complete (which also names a fixture prompt).
``tools-call-error`` calls the fixture tool ``test_error_handling``: here it checks that an
unknown tool answers an ``isError`` result with a message.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from test_gallery import unavailable
from test_http_transport import http_server

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "conformance" / "node_modules"
APPLICABLE = [
    "server-initialize",
    "ping",
    "tools-list",
    "tools-call-error",
    "resources-list",
    "resources-subscribe",
    "resources-unsubscribe",
    "prompts-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
]


@pytest.fixture(scope="session")
def conformance() -> list[str]:
    if shutil.which("npm") is None:
        unavailable("npm is not installed: the conformance runner needs it")
    subprocess.run(["bash", str(ROOT / "scripts" / "install-conformance")], check=True, timeout=900)
    node = RUNNER / ".bin" / "node"
    return [str(node), str(RUNNER / "@modelcontextprotocol" / "conformance" / "dist" / "index.js")]


def test_every_applicable_scenario_passes(conformance: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
    with http_server(tmp_path / "data") as base:
        outcomes: dict[str, str] = {}
        for scenario in APPLICABLE:
            done = subprocess.run(
                [*conformance, "server", "--url", f"{base}/mcp", "--scenario", scenario],
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
                check=False,
            )
            plain = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
            summary = re.search(r"Passed: (\d+)/(\d+), (\d+) failed", plain)
            assert summary, f"{scenario}: no summary in\n{plain[-2000:]}"
            passed, total, failed = (int(group) for group in summary.groups())
            outcomes[scenario] = f"{passed}/{total}"
            assert failed == 0 and passed == total > 0, f"{scenario}:\n{plain[-3000:]}"
            assert done.returncode == 0, f"{scenario}: exit {done.returncode}\n{plain[-2000:]}"
    print("conformance:", outcomes)
