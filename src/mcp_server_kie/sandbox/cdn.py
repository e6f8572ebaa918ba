"""The sandbox's file host: where result and upload URLs point and the files they serve.

Task files live at `/cdn/{task_id}/{index}.{ext}` (extras such as a Runway cover or a Veo
1080p video at `/cdn/{task_id}/{index}-{role}.{ext}`), uploads at `/cdn/uploads/{path}`.
Task files are rendered on first request, then cached, so every later request (and
`served_sha256`) sees exactly the same bytes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from functools import partial
from urllib.parse import unquote, urlsplit

from mcp_server_kie.sandbox.media import MediaFile, render_audio, render_image, render_video
from mcp_server_kie.sandbox.tasks import Output

CDN_PREFIX = "/cdn/"
MAX_VIDEO_SECONDS = 15
MAX_AUDIO_SECONDS = 30  # a sandbox song is a short stand-in, whatever length was asked for
_TASK_FILE = re.compile(
    r"^/cdn/(?P<task>[A-Za-z0-9_-]{6,80})/\d+(?:-[a-z0-9]+)?\.(?:png|jpg|mp4|mp3|wav)$"
)

Renderer = Callable[[], MediaFile]


def output_url(base_url: str, task_id: str, output: Output) -> str:
    return f"{base_url}{CDN_PREFIX}{task_id}/{output.name}"


def task_of(path: str) -> str | None:
    """The task id a CDN path belongs to, or None if it is not a task file path."""
    match = _TASK_FILE.match(path)
    return match["task"] if match is not None else None


def path_of(url: str) -> str:
    return unquote(urlsplit(url).path)


def _render(seed: str, prompt: str, output: Output) -> MediaFile:
    if output.extension in ("mp3", "wav"):
        seconds = min(max(output.seconds, 1), MAX_AUDIO_SECONDS)
        return render_audio(seed, seconds, output.extension)
    if output.extension == "mp4":
        seconds = min(max(output.seconds, 1), MAX_VIDEO_SECONDS)
        return render_video(seed, prompt, output.aspect_ratio, seconds, output.label)
    image_format = "jpeg" if output.extension == "jpg" else "png"
    return render_image(seed, prompt, output.aspect_ratio, image_format)


def renderer(task_id: str, prompt: str, output: Output) -> Renderer:
    """Blocking CPU work that renders one file of a task (the first result seeds on the id)."""
    first = output.role == "result" and output.index == 0
    seed = task_id if first else f"{task_id}/{output.name}"
    return partial(_render, seed, prompt, output)


class MediaCache:
    """Rendered files by CDN path; renders each path at most once."""

    def __init__(self) -> None:
        self._files: dict[str, MediaFile] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def cached(self, path: str) -> MediaFile | None:
        return self._files.get(path)

    async def get(self, path: str, render: Renderer) -> MediaFile:
        cached = self._files.get(path)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(path, asyncio.Lock())
        async with lock:
            cached = self._files.get(path)
            if cached is None:
                cached = await asyncio.to_thread(render)
                self._files[path] = cached
        self._locks.pop(path, None)
        return cached

    def get_blocking(self, path: str, render: Renderer) -> MediaFile:
        cached = self._files.get(path)
        if cached is None:
            cached = render()
            self._files[path] = cached
        return cached
