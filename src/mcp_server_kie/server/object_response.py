"""Serve a stored object that is not a file on this machine (S3): streamed, with Range.

The bytes stream through this server rather than redirecting the client to a presigned URL:
the object store is often on a private network the browser cannot reach (MinIO, moto, a VPC
endpoint), the access policy and headers (nosniff, Content-Disposition, caching) stay the
same for both backends, and a video player's Range requests keep working. One range per
request, as browsers ask; a multi-range request gets the whole object (RFC 9110 allows it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mcp_server_kie.media import MediaStore

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(ValueError):
    """The Range asks for bytes the object does not have (416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (end exclusive) for a satisfiable single range; None for no usable
    Range header (serve everything); RangeNotSatisfiable when it lies outside the object."""
    match = _RANGE.fullmatch((header or "").strip())
    if match is None or match[1] == match[2] == "":
        return None
    first, last = match[1], match[2]
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(size - length, 0), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise RangeNotSatisfiable(header)
    return start, end


async def object_response(
    media: MediaStore,
    location: str,
    request: Request,
    media_type: str,
    headers: Mapping[str, str],
) -> Response:
    """The object at ``location`` (MissingMedia propagates), honouring a Range header."""
    size = await media.size(location)
    base = {**headers, "Accept-Ranges": "bytes"}
    try:
        wanted = byte_range(request.headers.get("range"), size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    start, end = wanted or (0, size)
    base["Content-Length"] = str(end - start)
    status = 200
    if wanted is not None:
        status = 206
        base["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, media_type=media_type, headers=base)
    return StreamingResponse(
        media.stream(location, start, end), status_code=status, media_type=media_type, headers=base
    )
