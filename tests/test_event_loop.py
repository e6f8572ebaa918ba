"""The event loop the server runs on, and what a bad setting does at start.

The server runs on uvloop where it is installed (a dependency on Linux and macOS) unless
KIE_EVENT_LOOP=asyncio; the benchmarks run on the same loop (runtime.run). A setting with a
bad value stops the server with one line naming it and what it accepts: no traceback, no value.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mcp_server_kie.server.runtime import event_loop_factory, run
from support import real_server

uvloop = pytest.importorskip("uvloop")  # not built for Windows; the standard loop runs there

# A real server (stdio, closed at once), reporting which loop it ran on.
PROBE = """
import asyncio, atexit, sys
from mcp_server_kie.server import runtime
ran_on = []
chosen = runtime.event_loop_factory
def recording(choice="auto"):
    factory = chosen(choice)
    def new_loop():
        loop = factory()
        ran_on.append(type(loop).__module__.split(".")[0])
        return loop
    return new_loop
runtime.event_loop_factory = recording
atexit.register(lambda: print("LOOP", *ran_on, file=sys.stderr))
from mcp_server_kie.server.cli import main
main(["serve"])
"""


@pytest.mark.parametrize(("choice", "module"), [(None, "uvloop"), ("asyncio", "asyncio")])
def test_the_server_runs_on_uvloop_unless_told_otherwise(
    tmp_path: Path, choice: str | None, module: str
) -> None:
    done = real_server(PROBE, tmp_path, **({"KIE_EVENT_LOOP": choice} if choice else {}))
    assert done.returncode == 0, done.stderr[-2000:]
    [line] = [line for line in done.stderr.splitlines() if line.startswith("LOOP")]
    assert line.split()[1:] == [module]


def test_run_uses_the_loop_it_is_told() -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run(loop_module()) == "uvloop"
    assert run(loop_module(), "asyncio") == "asyncio.unix_events"
    assert event_loop_factory("asyncio") is asyncio.new_event_loop


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("KIE_EVENT_LOOP", "trio", "KIE_EVENT_LOOP: Input should be 'auto' or 'asyncio'"),
        ("KIE_WEBHOOK_PORT", "70000", "KIE_WEBHOOK_PORT: Input should be less than or equal"),
        ("KIE_STATUS_LIMIT", "secret-looking-value", "KIE_STATUS_LIMIT: Input should be a valid"),
    ],
)
def test_a_bad_setting_stops_the_server_with_a_sentence_not_a_traceback(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    code = "from mcp_server_kie.server.cli import main; main(['serve'])"
    done = real_server(code, tmp_path, **{variable: value})
    assert done.returncode == 1
    assert done.stdout == ""  # stdout belongs to the MCP protocol
    assert done.stderr.startswith("mcp-server-kie cannot start: ")
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert value not in done.stderr  # several settings are secrets: values are never echoed
