"""kill -9 recovery (reliability-security.md case 18): the short form of bench/killstorm.py.

The harness runs a sandbox, starts the real server as a child process, and SIGKILLs it right
after a callback was acknowledged or while it downloads a result, restarting it each time. The
real server must lose nothing; the deliberately broken child (it answers 200 before storing)
must be caught by the same checks, which shows they can fail. The long form (100+ kills) is
`python bench/killstorm.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcp_server_kie.media.tempfiles import held, remove_abandoned, temp_path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "bench" / "killstorm.py"


def run_harness(data_dir: Path, args: str) -> tuple[dict[str, Any], int]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, str(HARNESS), "--data-dir", str(data_dir), "--seed", "7", *args.split()],
        capture_output=True,
        text=True,
        env=env,
        timeout=100,
        check=False,
    )
    assert result.stdout, result.stderr
    return json.loads(result.stdout), result.returncode


def test_killed_server_loses_no_acknowledged_callback(tmp_path: Path) -> None:
    args = "--iterations 5 --modes ack,download --video-share 0 --settle-timeout 50"
    report, code = run_harness(tmp_path, args)
    assert sum(report["kills_by_mode"].values()) == 5, report
    assert report["acknowledged_callbacks"] >= 5, report
    assert report["unprocessed_deliveries_at_kill"] > 0, report  # kills hit pending work
    assert report["lost"] == 0, report
    assert report["integrity"] == "ok", report
    assert report["temp_files_left_after_restart"] == 0, report
    assert report["still_open"] == 0 and report["temp_at_end"] == 0, report
    assert report["jobs_by_status"] == {"completed": report["assets"]}, report
    assert report["hash_mismatches"] == 0 and report["files_of_unfinished_jobs"] == 0, report
    assert report["database_locked_in_logs"] == 0 and report["tracebacks_in_logs"] == 0, report
    assert code == 0


def test_harness_catches_ack_before_commit(tmp_path: Path) -> None:
    report, code = run_harness(tmp_path, "--broken --iterations 4 --settle-timeout 0")
    assert report["variant"] == "ack-before-commit"
    assert report["lost"] > 0, report
    assert code == 0


def test_start_up_sweep_removes_only_abandoned_temp_files(tmp_path: Path) -> None:
    job_dir = tmp_path / "media" / "2026" / "01" / "02" / "job_1"
    job_dir.mkdir(parents=True)
    abandoned = temp_path(job_dir / "0")
    abandoned.write_bytes(b"half a file")  # as a killed download leaves it: nobody holds it
    final = job_dir / "1.png"
    final.write_bytes(b"done")
    live = temp_path(job_dir / "1")
    with held(live):
        assert remove_abandoned(tmp_path / "media") == 1
        assert live.exists()
    assert not abandoned.exists()
    assert final.exists()
    assert remove_abandoned(tmp_path / "media") == 1  # once its download is gone, it is too
    assert not live.exists()
    assert remove_abandoned(tmp_path / "missing") == 0
