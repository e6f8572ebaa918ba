"""Answers over stdio: written by the event loop when stdout is a pipe (server/stdio.py), by
the SDK when it is a file; either way whole lines, in order, nothing lost while the host is
slow to read, and stray output from the server's own code kept off the wire (on stderr)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from support import eventually

# A server with one tool that writes to stdout the ways libraries do (print, the descriptor),
# and one whose answer is large (several times a pipe's 64 KB buffer).
CHILD = """
import asyncio, os, sys
from mcp.server import MCPServer
from mcp_server_kie.server.stdio import serve_stdio

server = MCPServer("stdio-test")

@server.tool()
def shout() -> str:
    print("stray print")
    sys.stdout.flush()
    os.write(1, b"stray write\\n")
    return "shouted"

@server.tool()
def big(n: int) -> str:
    return "x" * n

asyncio.run(serve_stdio(server))
"""

BIG = 300_000


def requests() -> bytes:
    lines: list[dict[str, Any]] = [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "shout"}},
    ]
    lines += [
        {
            "jsonrpc": "2.0",
            "id": 2 + i,
            "method": "tools/call",
            "params": {"name": "big", "arguments": {"n": BIG + i}},
        }
        for i in range(4)
    ]
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def check_answers(stdout: bytes) -> None:
    """Every line is a JSON-RPC answer (nothing stray), each request answered whole."""
    answers = sorted((json.loads(line) for line in stdout.splitlines()), key=lambda a: a["id"])
    assert [a["id"] for a in answers] == [0, 1, 2, 3, 4, 5]
    assert answers[1]["result"]["content"][0]["text"] == "shouted"
    for i, answer in enumerate(answers[2:]):
        assert answer["result"]["content"][0]["text"] == "x" * (BIG + i)


async def test_a_pipe_gets_whole_answers_larger_than_the_pipe_holds() -> None:
    """Each big answer is several times what the pipe holds: the event loop writes what
    fits, keeps the rest until the host has read, and the lines arrive whole."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=1 << 24,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(requests())
    await process.stdin.drain()
    lines = [await asyncio.wait_for(process.stdout.readline(), 30) for _ in range(6)]
    process.stdin.close()  # the end of input: the server exits
    rest, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    check_answers(b"".join(lines) + rest)
    assert b"stray print" in stderr and b"stray write" in stderr


async def test_a_file_gets_the_same_answers_written_by_the_sdk(tmp_path: Path) -> None:
    """stdout redirected to a file (no pipe for the event loop to write): the SDK writes."""
    out = tmp_path / "answers.jsonl"
    with out.open("wb") as stdout:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            stdin=asyncio.subprocess.PIPE,
            stdout=stdout,
            stderr=asyncio.subprocess.PIPE,
        )
    assert process.stdin is not None
    process.stdin.write(requests())
    await process.stdin.drain()
    await eventually(lambda: out.read_bytes().count(b"\n") >= 6, 30, "six answers")
    process.stdin.close()
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    check_answers(out.read_bytes())
    assert b"stray print" in stderr and b"stray write" in stderr
