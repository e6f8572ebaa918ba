"""Read dimensions and duration from a stored file (blocking; call through a thread). The
decoders (Pillow, PyAV) load on first use, not when the server starts: ``Decoders`` loads
them in the background once a job that will need them has started."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from mcp_server_kie.domain import MediaKind

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MediaInfo:
    width: int | None = None
    height: int | None = None
    duration: float | None = None


def describe(path: Path, mime_type: str) -> MediaInfo:
    """What the file's own headers say; empty (and logged) when they cannot be read."""
    if mime_type.startswith("image/"):
        from PIL import Image

        try:
            with Image.open(path) as image:
                return MediaInfo(width=image.width, height=image.height)
        except (OSError, Image.DecompressionBombError) as exc:
            log.warning("could not read image details of %s: %s", path.name, exc)
            return MediaInfo()
    if mime_type.startswith("audio/"):
        return _describe_audio(path)
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            duration = None
            if container.duration is not None:
                duration = round(container.duration / 1_000_000, 3)
            return MediaInfo(
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                duration=duration,
            )
    except (av.FFmpegError, IndexError) as exc:
        log.warning("could not read video details of %s: %s", path.name, exc)
        return MediaInfo()


def _describe_audio(path: Path) -> MediaInfo:
    """An audio file's duration: the container's, else its first audio stream's."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            if container.duration is not None:
                return MediaInfo(duration=round(container.duration / 1_000_000, 3))
            if stream.duration is not None and stream.time_base is not None:
                return MediaInfo(duration=round(float(stream.duration * stream.time_base), 3))
            return MediaInfo()
    except (av.FFmpegError, IndexError) as exc:
        log.warning("could not read audio details of %s: %s", path.name, exc)
        return MediaInfo()


def load_decoders(kind: MediaKind) -> None:
    """Load what describing and previewing a file of ``kind`` needs (blocking): Pillow with
    its common formats for an image or a video's poster frame, PyAV for a video or a sound."""
    if kind is not MediaKind.AUDIO:
        from PIL import Image

        Image.preinit()
    if kind is not MediaKind.IMAGE:
        import av  # noqa: F401


class Decoders:
    """Loads the decoders for each kind of result once, in a thread, when asked (a job of that
    kind has started). Loading them costs tens of milliseconds (PyAV ~50-100 ms, Pillow
    ~25 ms) during which the importing thread holds the interpreter; left to the first result,
    it would delay that job's completion and every callback being acknowledged meanwhile.
    The generation takes seconds: the load is done long before the result arrives."""

    def __init__(self) -> None:
        self._asked: set[MediaKind] = set()
        self._loading: set[asyncio.Future[None]] = set()

    def load(self, kind: MediaKind) -> None:
        if kind in self._asked:
            return
        self._asked.add(kind)
        loading = asyncio.ensure_future(asyncio.to_thread(load_decoders, kind))
        self._loading.add(loading)
        loading.add_done_callback(self._loaded)

    def _loaded(self, loading: asyncio.Future[None]) -> None:
        self._loading.discard(loading)
        if not loading.cancelled() and loading.exception() is not None:
            log.warning(
                "loading decoders failed (they load on first use instead): %s", loading.exception()
            )

    async def wait(self) -> None:
        """Until the loads asked for so far have ended (an import is not cut off midway)."""
        if self._loading:
            await asyncio.wait(set(self._loading))
