"""What a failure of the data folder means, in one sentence a person can act on.

Disk full, a read-only or unwritable folder, a damaged or truncated database: each is named,
with the path it concerns and what to do. Tools, the HTTP routes, start-up and `doctor` all
use this one explanation, so the same condition reads the same everywhere.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_DOCTOR = "`mcp-server-kie doctor` checks the data folder and database"


def explain_storage_failure(exc: BaseException, database: Path) -> str | None:
    """The sentence for ``exc`` when it is a failure of the data folder or the database at
    ``database``; None for anything else."""
    folder = database.parent
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        if "full" in text:
            return _full(folder)
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return _read_only(folder)
        if "malformed" in text or "not a database" in text or "corrupt" in text:
            return (
                f"The database {database} is damaged ({exc}). Stop the server, move the file "
                "aside (a new, empty one is made at the next start; the files in "
                f"{folder / 'media'} stay) or restore it from a backup; {_DOCTOR}."
            )
        if "disk i/o error" in text:
            return (
                f"Writing the database {database} failed with a disk I/O error: the disk may be "
                f"full or failing. Free some space or move KIE_DATA_DIR; {_DOCTOR}."
            )
        return None
    if isinstance(exc, OSError) and exc.errno is not None:
        where = Path(exc.filename) if exc.filename else folder
        if exc.errno in _FULL:
            return _full(where)
        if exc.errno in _READ_ONLY:
            return _read_only(where)
    return None


def _full(where: Path) -> str:
    return (
        f"The disk holding {where} is full, so nothing could be saved. Free some space "
        "(delete_media removes finished jobs and their files) or set KIE_DATA_DIR to a folder "
        "on a larger disk, then try again."
    )


def _read_only(where: Path) -> str:
    return (
        f"{where} is read-only or not writable by this user, so nothing could be saved. Make "
        f"it writable, or set KIE_DATA_DIR to a folder you own; {_DOCTOR}."
    )
