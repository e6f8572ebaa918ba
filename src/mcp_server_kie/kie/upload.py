"""kie.ai's File Upload API on its own host (`https://kieai.redpandaai.co`): the multipart
`POST /api/file-stream-upload` form and its reply. Pure, no I/O.

The form carries `file` (binary), `uploadPath` (no leading or trailing slash) and `fileName`.
kie.ai overwrites a file uploaded again under the same path and name, so the name we send is
made unique per content: the first 16 hex digits of the SHA-256 of the bytes, then the caller's
name reduced to safe ASCII. The same bytes always get the same URL; different bytes never
collide. Replies use the usual envelope plus `"success"`, and describe the file in one of two
documented shapes: quickstart (`fileUrl` and `downloadUrl`, `expiresAt`) or the stream page
(`downloadUrl`, `filePath`, `uploadedAt`). We return `downloadUrl`, else `fileUrl`. Uploaded
files are temporary (kie says 3 days; its agent skill says 24 hours).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping

from mcp_server_kie.kie.errors import KieProtocolError
from mcp_server_kie.kie.wire import is_http_url

DEFAULT_UPLOAD_BASE_URL = "https://kieai.redpandaai.co"
STREAM_PATH = "/api/file-stream-upload"
DEFAULT_UPLOAD_PATH = "mcp-server-kie"
MAX_NAME_LENGTH = 100

_UPLOAD_PATH = re.compile(
    r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){0,7}"
)
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")

Form = dict[str, str]
Files = dict[str, tuple[str, bytes, str]]


def safe_file_name(data: bytes, file_name: str) -> str:
    """`<sha256[:16]>-<name>`: the caller's base name folded to ASCII letters, digits, `.`,
    `_` and `-` (stem "file" when nothing is left), capped with its extension kept."""
    base = re.split(r"[/\\]", file_name)[-1] if isinstance(file_name, str) else ""
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = _fold(ext)[:10]
    stem = (_fold(stem) or "file")[: MAX_NAME_LENGTH - len(ext) - 1].rstrip(".-_")
    name = f"{stem}.{ext}" if ext else stem
    return f"{hashlib.sha256(data).hexdigest()[:16]}-{name}"


def _fold(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_RUN.sub("-", ascii_text).strip(".-_")


def build_form(
    data: bytes, file_name: str, mime_type: str, upload_path: str = DEFAULT_UPLOAD_PATH
) -> tuple[Form, Files]:
    """The multipart fields and file part of a stream upload. ValueError for unusable input."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise ValueError("data must be the file's non-empty bytes")
    if not isinstance(mime_type, str) or not _MIME_TYPE.fullmatch(mime_type.strip().lower()):
        raise ValueError("mime_type must look like image/png")
    if not isinstance(upload_path, str) or not _UPLOAD_PATH.fullmatch(upload_path):
        raise ValueError(
            "upload_path must be one or more folder names (letters, digits, . _ -, not starting "
            "with '.') joined by '/', with no leading or trailing slash"
        )
    content = bytes(data)
    name = safe_file_name(content, file_name)
    form: Form = {"uploadPath": upload_path, "fileName": name}
    files: Files = {"file": (name, content, mime_type.strip().lower())}
    return form, files


def uploaded_url(data: object, *, what: str) -> str:
    """The URL to feed into model inputs: `data.downloadUrl`, else `data.fileUrl`."""
    if isinstance(data, Mapping):
        for key in ("downloadUrl", "fileUrl"):
            link = data.get(key)
            if isinstance(link, str) and is_http_url(link.strip()):
                return link.strip()
    raise KieProtocolError(f"kie.ai's reply had no usable file URL while {what}.")
