"""Audio files in the library: typed by their first bytes (MP3 with or without an ID3 tag,
WAV, M4A), checked for truncation where the container says its length, described by their
duration, and given no preview."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_server_kie.media import describe, write_preview
from mcp_server_kie.media.integrity import is_complete
from mcp_server_kie.media.sniff import EXTENSIONS, sniff
from mcp_server_kie.sandbox.media import render_audio

MP3 = render_audio("seed", 2, "mp3").data
WAV = render_audio("seed", 2, "wav").data


def frames_only(mp3: bytes) -> bytes:
    """The MP3 without its ID3v2 tag (tag size: four 7-bit bytes after the 6-byte header)."""
    assert mp3[:3] == b"ID3"
    size = 0
    for byte in mp3[6:10]:
        size = (size << 7) | byte
    return mp3[10 + size :]


@pytest.mark.parametrize(
    ("head", "mime_type"),
    [
        (MP3, "audio/mpeg"),
        (frames_only(MP3), "audio/mpeg"),
        (WAV, "audio/wav"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"OggS\x00\x02" + bytes(26), "audio/ogg"),
        (b"fLaC\x00\x00\x00\x22" + bytes(24), "audio/flac"),
        (b"\xff\xf1\x50\x80" + bytes(28), None),  # ADTS AAC: layer bits 00, not MP3
        (b"\xff\xfb\xf0\x44" + bytes(28), None),  # reserved bitrate index
        (b"\xff\xd8\xff\xe0" + bytes(28), "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_audio_is_typed_by_its_first_bytes(head: bytes, mime_type: str | None) -> None:
    assert sniff(head[:32]) == mime_type
    if mime_type is not None:
        assert mime_type in EXTENSIONS


def test_a_cut_wav_is_incomplete_and_a_whole_one_complete(tmp_path: Path) -> None:
    whole, cut = tmp_path / "whole.wav", tmp_path / "cut.wav"
    whole.write_bytes(WAV)
    cut.write_bytes(WAV[: len(WAV) // 2])
    assert is_complete(whole, "audio/wav")
    assert not is_complete(cut, "audio/wav")


def test_a_streamed_wav_of_unknown_length_is_left_to_the_decoder(tmp_path: Path) -> None:
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(WAV[:4] + b"\xff\xff\xff\xff" + WAV[8:])
    assert is_complete(streamed, "audio/wav")


@pytest.mark.parametrize(("data", "name"), [(MP3, "song.mp3"), (WAV, "speech.wav")])
def test_audio_is_described_by_its_duration_and_has_no_preview(
    tmp_path: Path, data: bytes, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    mime_type = sniff(data[:32])
    assert mime_type is not None
    info = describe(path, mime_type)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.width, info.height) == (None, None)
    assert write_preview(path, mime_type, tmp_path / "preview.thumb.jpg") is None
    assert not (tmp_path / "preview.thumb.jpg").exists()


def test_an_undecodable_audio_file_is_described_as_unknown(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp3"
    path.write_bytes(b"ID3" + bytes(200))
    assert describe(path, "audio/mpeg").duration is None
