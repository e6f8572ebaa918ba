"""Temporary download files: held by a live download, swept after a crash.

A download writes to a hidden ``.{name}.part-{random}`` file beside its destination and holds
an exclusive lock on it until the file has been renamed into place or removed. A process
killed mid-download leaves that file behind, and nothing would ever remove it: the job is
downloaded again under a new random name. ``remove_abandoned`` deletes such leftovers at
start-up, and leaves alone any temp file a live download still holds (in this process or in
another server sharing the data directory).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_MARKER = ".part-"


def temp_path(dest_stem: Path) -> Path:
    return dest_stem.with_name(f".{dest_stem.name}{_MARKER}{secrets.token_hex(4)}")


@contextlib.contextmanager
def held(path: Path) -> Iterator[None]:
    """Create ``path`` and hold it as a live download's until the block ends."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _hold(fd)
        yield
    finally:
        os.close(fd)


async def to_the_end(work: Awaitable[T]) -> T:
    """``work``'s result, awaited to its end even when the caller is cancelled meanwhile, the
    cancellation raised after. For work in a thread, which runs on regardless: the files it
    touches are not removed from under it, and what it made is known (to be removed)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        raise


async def in_thread_to_the_end(fn: Callable[..., T], *args: Any) -> T:
    """`to_the_end` for ``fn(*args)`` in a thread (as asyncio.to_thread: the default executor,
    this context). Handed to the thread at once, not from a task's first step a loop turn
    later: under load a turn waits behind everything else ready on the loop."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, fn, *args)
    return await to_the_end(loop.run_in_executor(None, call))  # a future: no task around it


def remove_abandoned(root: Path) -> int:
    """Delete the temp files under ``root`` that no live download holds; return how many."""
    if not root.is_dir():
        return 0
    return sum(1 for path in root.rglob(f".*{_MARKER}*") if _remove_unless_held(path))


if sys.platform == "win32":

    def _hold(fd: int) -> None:
        """Windows refuses to delete a file that is open, which is hold enough."""

    def _remove_unless_held(path: Path) -> bool:
        try:
            path.unlink()
        except (FileNotFoundError, PermissionError):
            return False
        return True

else:
    import fcntl

    def _hold(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel when the process dies

    def _remove_unless_held(path: Path) -> bool:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live download holds it
        else:
            path.unlink(missing_ok=True)
            return True
        finally:
            os.close(fd)
