"""The sandbox's result host: where result URLs point and the files they serve.

Paths look like `/cdn/{task_id}/{index}.{ext}`. Files are rendered on first request, then
cached, so every later request (and `served_sha256`) sees exactly the same bytes.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from mcp_server_kie.sandbox.media import MediaFile, render_image, render_video
from mcp_server_kie.sandbox.models import ModelSpec
from mcp_server_kie.sandbox.tasks import SimTask

CDN_PREFIX = "/cdn/"
_PATH = re.compile(r"^/cdn/(?P<task>[0-9a-f]{32})/(?P<index>\d+)\.(?P<ext>png|jpg|mp4)$")


def file_extension(spec: ModelSpec, inputs: dict[str, object]) -> str:
    if spec.kind == "video":
        return "mp4"
    return "jpg" if spec.value(inputs, "output_format") == "jpeg" else "png"


def result_urls(base_url: str, task_id: str, extension: str, count: int = 1) -> tuple[str, ...]:
    return tuple(f"{base_url}{CDN_PREFIX}{task_id}/{index}.{extension}" for index in range(count))


def parse_path(path: str) -> tuple[str, int, str] | None:
    """(task id, index, extension) for a CDN path, or None if it is not one."""
    match = _PATH.match(path)
    if match is None:
        return None
    return match["task"], int(match["index"]), match["ext"]


def path_of(url: str) -> str:
    return urlsplit(url).path


def _aspect_ratio(task: SimTask) -> str:
    value = task.inputs.get("aspect_ratio") or task.inputs.get("image_size")
    if not isinstance(value, str):
        default = task.spec.value(task.inputs, "aspect_ratio")
        value = default if isinstance(default, str) else "1:1"
    return value


def _seconds(task: SimTask) -> int:
    value = task.spec.value(task.inputs, "duration")
    try:
        return max(int(str(value)), 1)
    except ValueError:
        return 5


def render(task: SimTask, extension: str) -> MediaFile:
    """Render one output of a task (blocking CPU work)."""
    if extension == "mp4":
        return render_video(task.task_id, task.prompt, _aspect_ratio(task), _seconds(task))
    image_format = "jpeg" if extension == "jpg" else "png"
    return render_image(task.task_id, task.prompt, _aspect_ratio(task), image_format)


class MediaCache:
    """Rendered files by CDN path; renders each path at most once."""

    def __init__(self) -> None:
        self._files: dict[str, MediaFile] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def cached(self, path: str) -> MediaFile | None:
        return self._files.get(path)

    async def get(self, path: str, task: SimTask, extension: str) -> MediaFile:
        cached = self._files.get(path)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(path, asyncio.Lock())
        async with lock:
            cached = self._files.get(path)
            if cached is None:
                cached = await asyncio.to_thread(render, task, extension)
                self._files[path] = cached
        self._locks.pop(path, None)
        return cached

    def get_blocking(self, path: str, task: SimTask, extension: str) -> MediaFile:
        cached = self._files.get(path)
        if cached is None:
            cached = render(task, extension)
            self._files[path] = cached
        return cached
