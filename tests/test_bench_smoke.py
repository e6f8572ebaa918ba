"""The benchmarks still work: every script in bench/ runs in its smoke mode (tiny sizes, a few
seconds each) through bench/run_all.py, which renders BENCHMARKS.md from their JSON.

CI runs only this; the full benchmarks (`make bench`, minutes) are run by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.timeout(300)  # the scale script starts PostgreSQL, haproxy and four replicas
def test_every_benchmark_runs_in_smoke_mode_and_renders_the_table(tmp_path: Path) -> None:
    table, raw = tmp_path / "BENCHMARKS.md", tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--smoke", f"--output={table}",
         f"--json={raw}"],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(raw.read_text())
    assert sorted({r["question"] for r in results}) == list(range(1, 10))
    for result in results:
        assert result["smoke"] is True
        assert result["rows"], result["script"]
        # How the disk answered meanwhile (bench/disk_probe.py): every script takes seconds.
        assert result["fsync"]["count"] >= 1 and result["fsync"]["max_ms"] > 0, result["script"]
        for row in result["rows"]:
            assert isinstance(row["value"], int | float), (result["script"], row)
            assert row["ok"] in (True, False, None)
    by_title = {r["title"]: r for r in results}
    # What must hold at any size: nothing acknowledged is lost, every job completes.
    for backend in ("SQLite", "PostgreSQL"):
        ingest = by_title[f"Webhook ingest ({backend})"]
        lost = next(row for row in ingest["rows"] if row["target"] == "0 lost")
        assert lost["ok"] is True and lost["value"] == 0, lost
    assert by_title["Scale"]["rows"][0]["ok"] is True, by_title["Scale"]["rows"][0]
    text = table.read_text()
    assert "Smoke run" in text
    assert text.count("\n| ") == 1 + sum(len(r["rows"]) for r in results)  # header + rows
    for result in results:
        assert f"**{result['question']}. {result['title']}**" in text
    assert text.count("; fsync during the run p50 ") == len(results)
