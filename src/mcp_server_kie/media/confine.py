"""The one confinement rule for every file that leaves the server or is deleted by it.

A stored path, a path a client names or a path read from the database is used only if,
resolved (every symlink followed, `..` collapsed), it is an existing path inside its root,
itself resolved. So a symlink planted in the media folder that points out of it, a stored
path such as `media/../../home/x`, or a sibling folder whose name merely starts like the root
(`/allowed-evil` next to `/allowed`) are all refused: the comparison is by path components.

Callers: the local media store's ``local_path`` (every `/media` route, `media://` resource,
`delete_media` and gallery delete goes through it) and reference-image uploads.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def confined(path: Path | str, root: Path) -> Path | None:
    """``path`` resolved, when it exists inside ``root``; None otherwise (outside, missing,
    a symlink loop, or a name no file system accepts, such as one holding NUL)."""
    return confined_to_any(path, (root,))


def confined_to_any(
    path: Path | str, roots: Iterable[Path], *, must_exist: bool = True
) -> Path | None:
    """``path`` resolved, when it lies inside one of ``roots``; None otherwise. With
    ``must_exist`` false a path that does not exist (yet) passes if it would lie inside."""
    try:
        resolved = Path(path).expanduser().resolve(strict=must_exist)
        bases = [Path(root).expanduser().resolve() for root in roots]
    except (OSError, ValueError, RuntimeError):  # missing, NUL byte, symlink loop
        return None
    return resolved if any(resolved.is_relative_to(base) for base in bases) else None
