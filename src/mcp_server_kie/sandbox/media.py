"""Real media files for the sandbox CDN: PNG/JPEG images (Pillow), H.264 MP4 videos (PyAV),
and MP3 (PyAV's LAME encoder) or WAV (the standard library) audio.

Everything is deterministic for a given seed, prompt and shape, so a task always serves the
same bytes. Rendering is CPU work: callers run it in a thread.
"""

from __future__ import annotations

import hashlib
import io
import math
import textwrap
import wave
from dataclasses import dataclass, field
from fractions import Fraction

import av
from PIL import Image, ImageDraw, ImageFont

IMAGE_LONG_SIDE = 1024
VIDEO_LONG_SIDE = 320
VIDEO_FPS = 12
AUDIO_RATE = 22_050


@dataclass(frozen=True, slots=True)
class MediaFile:
    data: bytes
    content_type: str
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())


def frame_size(aspect_ratio: str, long_side: int, even: bool = False) -> tuple[int, int]:
    """Pixel size for an aspect ratio like "16:9" (anything unparsable, e.g. "auto", is 1:1)."""
    try:
        w_text, h_text = aspect_ratio.split(":")
        ratio_w, ratio_h = int(w_text), int(h_text)
    except ValueError:
        ratio_w = ratio_h = 1
    if ratio_w <= 0 or ratio_h <= 0:
        ratio_w = ratio_h = 1
    if ratio_w >= ratio_h:
        width, height = long_side, round(long_side * ratio_h / ratio_w)
    else:
        width, height = round(long_side * ratio_w / ratio_h), long_side
    if even:
        width, height = width - width % 2, height - height % 2
    return max(width, 2), max(height, 2)


def _colours(seed: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(seed.encode()).digest()
    top = (40 + digest[0] % 120, 40 + digest[1] % 120, 40 + digest[2] % 120)
    bottom = (100 + digest[3] % 155, 100 + digest[4] % 155, 100 + digest[5] % 155)
    return top, bottom


def _background(seed: str, size: tuple[int, int]) -> Image.Image:
    top, bottom = _colours(seed)
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _wrapped(text: str, width_chars: int, max_lines: int) -> str:
    lines = textwrap.wrap(" ".join(text.split()), width=max(width_chars, 8)) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(width_chars - 1, 1)].rstrip() + "…"
    return "\n".join(lines)


def render_image(seed: str, prompt: str, aspect_ratio: str, image_format: str) -> MediaFile:
    """An image whose longest side is 1024 px: a gradient with the prompt written on it."""
    size = frame_size(aspect_ratio, IMAGE_LONG_SIDE)
    image = _background(seed, size)
    draw = ImageDraw.Draw(image)
    font_size = max(size[0] // 24, 12)
    font = ImageFont.load_default(size=font_size)
    margin = size[0] // 16
    chars_per_line = (size[0] - 2 * margin) * 2 // font_size
    max_lines = max((size[1] - 3 * margin) // (font_size * 5 // 4), 1)
    draw.multiline_text(
        (margin, margin),
        _wrapped(prompt, chars_per_line, max_lines),
        fill=(255, 255, 255),
        font=font,
        spacing=font_size // 4,
    )
    small = ImageFont.load_default(size=max(font_size // 2, 10))
    draw.text((margin, size[1] - margin), "kie sandbox", fill=(255, 255, 255), font=small)
    buffer = io.BytesIO()
    if image_format == "jpeg":
        image.save(buffer, format="JPEG", quality=85)
        return MediaFile(buffer.getvalue(), "image/jpeg")
    image.save(buffer, format="PNG")
    return MediaFile(buffer.getvalue(), "image/png")


def render_video(
    seed: str, prompt: str, aspect_ratio: str, seconds: int, label: str = ""
) -> MediaFile:
    """A small H.264 MP4 (long side 320 px, 12 fps, yuv420p) with a box moving across it.

    A `label` (e.g. "1080p") is written on every frame and stored as the file's comment.
    """
    width, height = frame_size(aspect_ratio, VIDEO_LONG_SIDE, even=True)
    background = _background(seed, (width, height))
    font_size = max(width // 20, 10)
    font = ImageFont.load_default(size=font_size)
    caption = _wrapped(f"[{label}] {prompt}" if label else prompt, max(width // 8, 8), 2)
    box = max(min(width, height) // 6, 4)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        if label:
            container.metadata["comment"] = label
        stream = container.add_stream("libx264", rate=VIDEO_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, VIDEO_FPS)
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": "28"}
        frames = max(seconds, 1) * VIDEO_FPS
        for index in range(frames):
            picture = background.copy()
            draw = ImageDraw.Draw(picture)
            x = (width - box) * index // max(frames - 1, 1)
            y = (height - box) // 2
            draw.rectangle((x, y, x + box, y + box), fill=(255, 255, 255))
            draw.multiline_text((4, 4), caption, fill=(255, 255, 255), font=font)
            draw.text((4, height - font_size - 4), f"{index:04d}", fill=(0, 0, 0), font=font)
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            frame = frame.reformat(format="yuv420p")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return MediaFile(buffer.getvalue(), "video/mp4")


def _tone_samples(seed: str, seconds: float) -> list[int]:
    """16-bit mono samples: a short melody of notes picked by the seed, faded at each edge."""
    digest = hashlib.sha256(seed.encode()).digest()
    notes = [220.0 * 2 ** ((digest[i] % 12) / 12) for i in range(8)]
    total = max(round(seconds * AUDIO_RATE), AUDIO_RATE // 10)
    per_note = max(total // len(notes), 1)
    fade = AUDIO_RATE // 100
    samples: list[int] = []
    for index in range(total):
        step = index * 2 * math.pi / AUDIO_RATE
        edge = min(index % per_note, per_note - index % per_note, fade) / fade
        pitch = notes[min(index // per_note, len(notes) - 1)]
        samples.append(round(12_000 * edge * math.sin(pitch * step)))
    return samples


def render_audio(seed: str, seconds: float, audio_format: str) -> MediaFile:
    """A mono tone melody of `seconds` (22.05 kHz): a WAV file, or an MP3 (64 kbit/s)."""
    pcm = b"".join(s.to_bytes(2, "little", signed=True) for s in _tone_samples(seed, seconds))
    buffer = io.BytesIO()
    if audio_format == "wav":
        with wave.open(buffer, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(AUDIO_RATE)
            writer.writeframes(pcm)
        return MediaFile(buffer.getvalue(), "audio/wav")
    with av.open(buffer, mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=AUDIO_RATE)
        stream.layout = "mono"
        stream.bit_rate = 64_000
        frame_samples = 1152
        for start in range(0, len(pcm) // 2, frame_samples):
            chunk = pcm[start * 2 : (start + frame_samples) * 2]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
            frame.planes[0].update(chunk)
            frame.sample_rate = AUDIO_RATE
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return MediaFile(buffer.getvalue(), "audio/mpeg")
