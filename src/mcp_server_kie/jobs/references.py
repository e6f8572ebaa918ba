"""Reference images (and source videos) from the user's disk: checked, then uploaded so a
model can use them.

A value is either an http(s) URL (passed through: kie fetches it, not us), a local path /
``file://`` URL, or the location of an earlier output in an object store (``s3://...``, as a
result's ``path`` names it when KIE_MEDIA_URL is a bucket), read back through the media store.
A local file must resolve (symlinks followed) to a place under one of the allowed directories,
be a regular file under the size cap, and be an image by its bytes (a stored one: under the cap
and an image); a video field's file (Aleph's `video_url`) the same with a video's cap and bytes.
Everything is checked before any request leaves the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mcp_server_kie.catalog import ValidatedRequest
from mcp_server_kie.domain import UserInputError
from mcp_server_kie.media.confine import confined_to_any
from mcp_server_kie.media.sniff import SNIFF_BYTES, sniff
from mcp_server_kie.media.store import MediaStore, MediaStoreError

Upload = Callable[[bytes, str, str], Awaitable[str]]  # (data, file name, mime) -> URL

MAX_REFERENCE_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 100 * 1024 * 1024  # kie's file-stream upload limit
_WHAT = {"image": "a PNG, JPEG, WebP or GIF image", "video": "an MP4, MOV or WebM video"}


@dataclass(frozen=True, slots=True)
class LocalImage:
    path: Path
    mime_type: str
    kind: str = "image"


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An earlier output in the (object) media store, checked when it is read."""

    location: str
    kind: str = "image"


class ReferenceResolver:
    def __init__(
        self,
        allowed_dirs: Sequence[Path],
        max_bytes: int = MAX_REFERENCE_BYTES,
        media: MediaStore | None = None,
    ) -> None:
        self._allowed = [d.expanduser().resolve() for d in allowed_dirs]
        self._max_bytes = max_bytes
        self._media = media

    def check(self, request: ValidatedRequest) -> dict[str, list[LocalImage | StoredImage | str]]:
        """Every image input of the request, local files checked. Raises UserInputError."""
        found: dict[str, list[LocalImage | StoredImage | str]] = {}
        videos = request.spec.video_fields
        for name in request.spec.image_fields | videos:
            value = request.input.get(name)
            if value is None:
                continue
            items = value if isinstance(value, list) else [value]
            kind = "video" if name in videos else "image"
            found[name] = [self._check_one(str(item), kind) for item in items]
        return found

    async def resolve(self, request: ValidatedRequest, upload: Upload) -> ValidatedRequest:
        """The request with every local file replaced by its uploaded URL."""
        checked = self.check(request)
        if all(isinstance(i, str) for items in checked.values() for i in items):
            return request
        stored = {  # read and checked before anything is uploaded
            item.location: await self._read_stored(item.location, item.kind)
            for items in checked.values()
            for item in items
            if isinstance(item, StoredImage)
        }
        new_input: dict[str, Any] = dict(request.input)
        for name, items in checked.items():
            urls = [await self._upload(item, upload, stored) for item in items]
            new_input[name] = urls if isinstance(request.input[name], list) else urls[0]
        return replace(request, input=new_input)

    async def _upload(
        self,
        item: LocalImage | StoredImage | str,
        upload: Upload,
        stored: dict[str, tuple[bytes, str]],
    ) -> str:
        if isinstance(item, str):
            return item
        if isinstance(item, StoredImage):
            data, mime = stored[item.location]
            return await upload(data, item.location.rsplit("/", 1)[-1], mime)
        data = await asyncio.to_thread(item.path.read_bytes)
        return await upload(data, item.path.name, item.mime_type)

    async def _read_stored(self, location: str, kind: str) -> tuple[bytes, str]:
        assert self._media is not None  # only StoredImage values need it, and imply it
        cap = self._cap(kind)
        try:
            data = await self._media.read(location, cap)
        except MediaStoreError:
            raise UserInputError(
                f"{location!r} is not in the media library (deleted?); list_media shows it."
            ) from None
        if data is None:
            raise UserInputError(
                f"{location!r} is larger than {cap / 1e6:.0f} MB, the limit for {kind} inputs."
            )
        mime = sniff(data[:SNIFF_BYTES])
        if mime is None or not mime.startswith(f"{kind}/"):
            raise UserInputError(f"{location!r} is not {_WHAT[kind]}.")
        return data, mime

    def _cap(self, kind: str) -> int:
        return max(self._max_bytes, MAX_VIDEO_BYTES) if kind == "video" else self._max_bytes

    def _check_one(self, value: str, kind: str = "image") -> LocalImage | StoredImage | str:
        media = self._media
        if media is not None and "://" in media.root and value.startswith(media.root + "/"):
            return StoredImage(value, kind)
        parts = urlsplit(value)
        if parts.scheme in ("http", "https"):
            if not parts.netloc:
                raise UserInputError(f"{value!r} is not a complete URL.")
            return value
        if parts.scheme == "file":
            path = Path(unquote(parts.path))
        elif parts.scheme == "" or (len(parts.scheme) == 1 and value[1:3] in (":\\", ":/")):
            path = Path(value)
        else:
            raise UserInputError(
                f"Reference images must be https URLs or local image files, not {parts.scheme}:"
            )
        return self._check_path(path, value, kind)

    def _check_path(self, path: Path, shown: str, kind: str = "image") -> LocalImage:
        if not path.is_absolute():
            raise UserInputError(f"Give the full path of {shown!r} (it is relative).")
        if "\0" in str(path):
            raise UserInputError(f"{shown!r} contains a NUL character; no file has that name.")
        resolved = confined_to_any(path, self._allowed, must_exist=False)
        if resolved is None:
            allowed = ", ".join(str(d) for d in self._allowed)
            raise UserInputError(
                f"{shown!r} is outside the folders this server may read ({allowed}). Move the "
                "file into one of them, or add its folder to KIE_INPUT_DIRS."
            )
        if not resolved.is_file():
            raise UserInputError(f"{shown!r} does not exist or is not a file.")
        size, cap = resolved.stat().st_size, self._cap(kind)
        if size > cap:
            noun = "reference images" if kind == "image" else "source videos"
            raise UserInputError(
                f"{shown!r} is {size / 1e6:.1f} MB; {noun} may be at most {cap / 1e6:.0f} MB."
            )
        with resolved.open("rb") as handle:
            mime = sniff(handle.read(SNIFF_BYTES))
        if mime is None or not mime.startswith(f"{kind}/"):
            raise UserInputError(f"{shown!r} is not {_WHAT[kind]}.")
        return LocalImage(resolved, mime, kind)
