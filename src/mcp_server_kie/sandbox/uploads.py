"""The file upload API (reference §5.4): what was uploaded, where it is served, and the reply.

kie's pages show two reply shapes (the quickstart's `fileUrl`/`uploadTime`/`expiresAt` and the
skill's `filePath`/`uploadedAt`); the sandbox answers with both sets of fields. Files are
served from `/cdn/uploads/{uploadPath}/{fileName}` until they expire (24 h, the shorter of the
two documented retentions); uploading the same path again replaces the file.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.media import MediaFile

MAX_BASE64_BYTES = 10 * 1024 * 1024
MAX_STREAM_BYTES = 100 * 1024 * 1024
RETENTION_SECONDS = 24 * 3600
UPLOAD_PREFIX = "/cdn/uploads/"

_SEGMENT = r"[A-Za-z0-9_.-]+"
_UPLOAD_PATH = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
_DATA_URL = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+)?(?:;[^,]*)?;base64,(?P<data>.*)", re.S)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"ftyp", 4, "video/mp4"),
    (b"ID3", 0, "audio/mpeg"),
)


@dataclass(frozen=True, slots=True)
class Upload:
    """One upload as a test sees it: `path` is `{uploadPath}/{fileName}`."""

    name: str
    path: str
    size: int
    sha256: str
    mime_type: str
    uploaded_at: float
    url: str


def decode_base64(text: object) -> tuple[bytes, str | None]:
    """The bytes of `base64Data` (bare or a data URL) and the type a data URL declares."""
    if not isinstance(text, str) or not text:
        raise ApiError(400, "base64Data is required")
    declared = None
    match = _DATA_URL.fullmatch(text.strip())
    if match is not None:
        declared, text = match["type"], match["data"]
    if len(text) > (MAX_BASE64_BYTES // 3 + 1) * 4 + 4096:
        raise ApiError(400, "The file is larger than 10 MB: use the stream upload")
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "base64Data is not valid base64") from exc
    if len(data) > MAX_BASE64_BYTES:
        raise ApiError(400, "The file is larger than 10 MB: use the stream upload")
    return data, declared


def _checked_path(upload_path: object) -> str:
    if not isinstance(upload_path, str) or not upload_path:
        raise ApiError(400, "uploadPath is required")
    parts = upload_path.split("/")
    if not _UPLOAD_PATH.fullmatch(upload_path) or {".", ".."} & set(parts):
        raise ApiError(400, "uploadPath must be folder names without leading or trailing '/'")
    return upload_path


def _checked_name(file_name: object, mime_type: str) -> str:
    if file_name is None or file_name == "":
        return secrets.token_hex(8) + (mimetypes.guess_extension(mime_type) or ".bin")
    if not isinstance(file_name, str) or len(file_name) > 255 or file_name in (".", ".."):
        raise ApiError(400, "fileName must be a file name")
    if _BAD_NAME.search(file_name):
        raise ApiError(400, "fileName must not contain '/', '\\' or control characters")
    return file_name


def sniff(data: bytes, name: str | None, declared: str | None) -> str:
    for signature, offset, mime_type in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return mime_type
    if declared and declared != "application/octet-stream":
        return declared
    guessed = mimetypes.guess_type(name)[0] if name else None
    return guessed or "application/octet-stream"


def _iso(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class UploadStore:
    """Uploaded files by CDN path, and the log of every upload (`uploads`)."""

    def __init__(self) -> None:
        self.uploads: list[Upload] = []
        self._files: dict[str, tuple[Upload, MediaFile]] = {}

    def put(
        self,
        base_url: str,
        now: float,
        data: bytes,
        upload_path: object,
        file_name: object,
        declared_type: str | None = None,
        original_name: str | None = None,
    ) -> dict[str, object]:
        """Store a file and return the `data` of the upload reply."""
        if not data:
            raise ApiError(400, "The file is empty")
        folder = _checked_path(upload_path)
        hint = file_name if isinstance(file_name, str) and file_name else original_name
        media = MediaFile(data, sniff(data, hint, declared_type))
        name = _checked_name(file_name, media.content_type)
        path = f"{folder}/{name}"
        url = f"{base_url}{UPLOAD_PREFIX}{quote(path)}"
        upload = Upload(name, path, len(data), media.sha256, media.content_type, now, url)
        self.uploads.append(upload)
        self._files[UPLOAD_PREFIX + path] = (upload, media)
        return {
            "fileId": media.sha256[:32],
            "fileName": name,
            "originalName": original_name or name,
            "filePath": path,
            "uploadPath": folder,
            "fileSize": len(data),
            "mimeType": media.content_type,
            "downloadUrl": url,
            "fileUrl": url,
            "uploadedAt": _iso(now),
            "uploadTime": _iso(now),
            "expiresAt": _iso(now + RETENTION_SECONDS),
        }

    def get(self, path: str, now: float) -> MediaFile | None:
        """The file served at a (decoded) CDN path, unless there is none or it expired."""
        found = self._files.get(path)
        if found is None or now > found[0].uploaded_at + RETENTION_SECONDS:
            return None
        return found[1]
