"""Every failure is a sentence: what failed, where, and what to do; never the SDK's bare
"Error executing tool <name>" (what a crash shows), never a traceback.

Real conditions only: a cursor encoding a huge integer, a reference path holding NUL, a
damaged or truncated database file, a read-only data folder and a full disk. The last two
use a small tmpfs mounted for the test (root), or, where mounting is not allowed, the
equivalent limits a normal user can set: a folder without write permission, and
RLIMIT_FSIZE on the server process (writes past it fail as they do on a full disk).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client

from mcp_server_kie.server.app import build_server
from mcp_server_kie.storage import Store
from support import sandbox_and_runtime


def huge_cursor() -> str:
    raw = json.dumps([10**400, "job_" + "0" * 24, "newest"]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_cursor_with_a_huge_number_is_a_clear_400_and_a_clear_tool_error(
    tmp_path: Path,
) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with httpx2.AsyncClient(base_url=runtime.sidecar_url or "") as http:
            response = await http.get("/api/media", params={"cursor": huge_cursor()})
        assert response.status_code == 400, response.text
        assert "cursor" in response.json()["error"]
        async with Client(build_server(runtime.tools)) as client:
            result = await client.call_tool("list_media", {"cursor": huge_cursor()})
        assert result.is_error
        text = result.content[0].text  # type: ignore[union-attr]
        assert "cursor" in text and "Traceback" not in text  # more than the SDK's bare prefix


async def test_a_reference_path_with_nul_is_a_sentence(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, input_dirs=str(tmp_path)) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            result = await client.call_tool(
                "generate_image",
                {
                    "prompt": "combine",
                    "model": "nano-banana-pro",
                    "reference_images": [f"{tmp_path}/cat\0.png"],
                },
            )
        assert result.is_error
        text = result.content[0].text  # type: ignore[union-attr]
        assert "NUL" in text


# --------------------------------------------------------------------------- start-up


def run_cli(
    data_dir: Path, command: str, *, fsize: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    env.update(KIE_API_KEY="sandbox-test-key", KIE_WEBHOOK_PORT="0")

    def limit() -> None:  # in the child only: writes past `fsize` bytes fail with EFBIG
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-m", "mcp_server_kie", command, "--data-dir", str(data_dir)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=limit,
    )


def assert_one_sentence(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


async def make_database(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = await Store.open(data_dir / "kie.sqlite3")
    await store.set_preferences({"image_model": "google/nano-banana"})
    await store.close()
    return data_dir / "kie.sqlite3"


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
async def test_a_damaged_database_stops_start_up_with_a_sentence_and_doctor_names_it(
    tmp_path: Path, damage: str
) -> None:
    database = await make_database(tmp_path)
    if damage == "garbage":
        database.write_bytes(b"this is not a database at all " * 200)
    else:
        data = database.read_bytes()
        database.write_bytes(data[: len(data) // 2 + 100])
    served = run_cli(tmp_path, "serve")
    assert_one_sentence(served, str(database), "damaged", "move the file")
    doctor = run_cli(tmp_path, "doctor")
    assert "[FAIL] database" in doctor.stdout and str(database) in doctor.stdout, doctor.stdout
    assert "Traceback" not in doctor.stderr, doctor.stderr


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[bool]:
    """A fresh tmpfs of ``size`` at ``path``; yields False when mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    try:
        yield mount.returncode == 0
    finally:
        if mount.returncode == 0:
            subprocess.run(["umount", "-l", str(path)], check=False)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


async def test_a_read_only_data_folder_stops_start_up_with_a_sentence(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with tmpfs(data, "8m") as mounted:
        await make_database(data)
        if mounted:
            remount_read_only(data)
        else:
            data.chmod(0o555)
        served = run_cli(data, "serve")
        assert_one_sentence(served, str(data), "read-only", "KIE_DATA_DIR")
        doctor = run_cli(data, "doctor")
        assert "[FAIL] data directory" in doctor.stdout, doctor.stdout
        if not mounted:
            data.chmod(0o755)


async def test_a_full_disk_stops_start_up_with_a_sentence_and_doctor_names_it(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with tmpfs(data, "1m") as mounted:
        if mounted:
            with contextlib.suppress(OSError), (data / "filler").open("wb") as filler:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
                    os.fsync(filler.fileno())
            served = run_cli(data, "serve")
        else:
            served = run_cli(data, "serve", fsize=4096)
        assert_one_sentence(served, str(data), "KIE_DATA_DIR")
        assert "full" in served.stderr, served.stderr
        if mounted:  # a process limit is not a full disk: only the real one shows in doctor
            doctor = run_cli(data, "doctor")
            assert "FAIL" in doctor.stdout and "full" in doctor.stdout, doctor.stdout


async def test_a_disk_that_fills_while_running_gives_tools_a_sentence(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with tmpfs(data, "8m") as mounted:
        async with sandbox_and_runtime(data) as (_sandbox, runtime):
            async with Client(build_server(runtime.tools)) as client:
                with disk_filled(data, mounted):
                    results = [
                        await client.call_tool("update_settings", {"num_images": n % 4 + 1})
                        for n in range(40)
                    ]
        failed = [r.content[0].text for r in results if r.is_error]  # type: ignore[union-attr]
        assert failed, "the full disk never showed"
        assert all("full" in text and str(data) in text for text in failed), failed


@contextlib.contextmanager
def disk_filled(data: Path, mounted: bool) -> Iterator[None]:
    """The tmpfs filled to the last byte; without one, this process may not grow any file
    past the largest in ``data`` (RLIMIT_FSIZE, SIGXFSZ ignored so writes fail with EFBIG)."""
    if mounted:
        with contextlib.suppress(OSError), (data / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        try:
            yield
        finally:
            (data / "filler").unlink()
        return
    largest = max(p.stat().st_size for p in data.rglob("*") if p.is_file())
    previous = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest, previous[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous)
        signal.signal(signal.SIGXFSZ, handler)
