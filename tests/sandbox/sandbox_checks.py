"""Checks shared by the sandbox tests: what a served file really is (opened with Pillow, or
demuxed and decoded with PyAV) and whether a callback is signed as kie documents."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from dataclasses import dataclass

import av
from PIL import Image


@dataclass(frozen=True)
class VideoFacts:
    codec: str
    size: tuple[int, int]
    frames: int
    fps: float
    comment: str | None


def image_facts(content: bytes) -> tuple[str, tuple[int, int]]:
    """(Pillow format, size) of an image; fails the test if Pillow cannot read it fully."""
    image = Image.open(io.BytesIO(content))
    image.load()
    return image.format or "", image.size


def video_facts(content: bytes, decode_all: bool = False) -> VideoFacts:
    """Codec, size, frame count and comment of an MP4; decodes its first (or every) frame."""
    with av.open(io.BytesIO(content)) as container:
        stream = container.streams.video[0]
        decoded = container.decode(stream)
        frames = sum(1 for _ in decoded) if decode_all else (1 if next(decoded) else 0)
        count = frames if decode_all else stream.frames
        return VideoFacts(
            codec=stream.codec_context.name,
            size=(stream.codec_context.width, stream.codec_context.height),
            frames=count,
            fps=float(stream.average_rate or 0),
            comment=container.metadata.get("comment"),
        )


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def signed_by(headers: dict[str, str], key: str, task_id: str) -> bool:
    """Whether callback headers carry kie's documented signature for `task_id`, written out
    independently: base64(HMAC-SHA256(key, f"{task_id}.{timestamp}"))."""
    timestamp = headers["x-webhook-timestamp"]
    mac = hmac.new(key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256)
    expected = base64.b64encode(mac.digest()).decode()
    return timestamp.isdigit() and hmac.compare_digest(headers["x-webhook-signature"], expected)
