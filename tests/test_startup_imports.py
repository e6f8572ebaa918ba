"""Start-up stays lean: a real server (an API key, no sandbox) serves and stops without ever
loading the simulator or the media decoders (Pillow, PyAV), which cost a quarter of a second of
imports and are needed only once a file arrives (or in sandbox mode); nor jsonschema (~90 ms
with its registry, needed at the first request's validation) or Jinja2 (~40 ms, at the first
view of the gallery).

Not a timed assertion: the start-up benchmark (bench/startup.py) measures the time; this fails
if an import at module level brings one of them back into every start.
"""

from __future__ import annotations

from pathlib import Path

from support import real_server

HEAVY = ("av", "PIL", "mcp_server_kie.sandbox", "jsonschema", "jinja2")

PROBE = f"""
import atexit, gc, sys
loaded = lambda: [m for m in {HEAVY!r} if m in sys.modules]
atexit.register(lambda: print("LOADED", *loaded(), file=sys.stderr))
atexit.register(lambda: print("COLLECTOR", gc.isenabled(), file=sys.stderr))
from mcp_server_kie.server.cli import main
main(["serve"])
"""


def test_a_real_server_starts_without_the_simulator_or_the_decoders(tmp_path: Path) -> None:
    done = real_server(PROBE, tmp_path)
    loaded = [line for line in done.stderr.splitlines() if line.startswith("LOADED")]
    assert loaded, done.stderr[-2000:]  # the server ran and stopped normally
    assert loaded[-1].split()[1:] == [], f"loaded at start-up: {loaded[-1]}"
    # The collector is off while the server starts and back on once it runs.
    assert "COLLECTOR True" in done.stderr, done.stderr[-2000:]
