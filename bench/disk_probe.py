"""How the disk answered while a benchmark ran: one small write and fsync every 0.2 s, in a
thread of bench/run_all.py, on the filesystem that holds the benchmarks' temporary folders.

A webhook's commit on SQLite and a result file's durability each wait for an fsync, so a disk
that stalls (a busy neighbour on a shared machine) shows as callback tails and lost ingest
rate that no code change made. The probe adds five 4 KB fsyncs a second: nothing to the load.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from types import TracebackType
from typing import Self

from harness import ms, percentile

PERIOD = 0.2


class FsyncProbe:
    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fsync-probe", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with tempfile.TemporaryFile() as file:
            while not self._stop.wait(PERIOD):
                file.write(b"\0" * 4096)
                started = time.perf_counter()
                file.flush()
                os.fsync(file.fileno())
                self.seconds.append(time.perf_counter() - started)

    def summary(self) -> dict[str, float | int]:
        """p50, p99 and max in ms, and how many fsyncs were timed (none: an empty dict)."""
        if not self.seconds:
            return {}
        return {
            "p50_ms": ms(percentile(self.seconds, 50)),
            "p99_ms": ms(percentile(self.seconds, 99)),
            "max_ms": ms(max(self.seconds)),
            "count": len(self.seconds),
        }


def describe(summary: dict[str, float | int] | None) -> str:
    """The summary as words for BENCHMARKS.md's notes ("" when there is none)."""
    if not summary:
        return ""
    return (
        f"; fsync during the run p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, "
        f"max {summary['max_ms']} ms of {summary['count']}"
    )
