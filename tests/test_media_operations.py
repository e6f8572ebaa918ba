"""Operating the media store: /healthz names the backend and whether it answers, `doctor`
checks it with a put/get/delete round trip, and a bad KIE_MEDIA_URL stops the start with a
sentence. Over the local folder and a bucket on the S3 test server."""

from __future__ import annotations

import os
from pathlib import Path

import httpx2
import pytest

from mcp_server_kie.config import Settings
from mcp_server_kie.server.runtime import open_runtime
from support import sandbox_and_runtime
from test_doctor import doctor


async def test_healthz_names_the_media_backend_and_whether_it_answers(
    tmp_path: Path, media_url: str | None
) -> None:
    async with sandbox_and_runtime(tmp_path, media_url=media_url) as (_sandbox, runtime):
        async with httpx2.AsyncClient() as client:
            answer = (await client.get(f"{runtime.sidecar_url}/healthz")).json()
        backend = "local" if media_url is None else "s3"
        assert answer["status"] == "ok"
        assert answer["media"] == {"backend": backend, "ok": True}

    gone = "s3://no-such-bucket-for-kie/media" if media_url else str(tmp_path / "f" / "media")
    if media_url is None:
        (tmp_path / "f").write_text("a file where the media folder's parent should be")
    async with sandbox_and_runtime(tmp_path / "2", media_url=gone) as (_sandbox, runtime):
        async with httpx2.AsyncClient() as client:
            response = await client.get(f"{runtime.sidecar_url}/healthz")
        answer = response.json()
        assert answer["status"] == "degraded"
        assert answer["media"] == {"backend": backend, "ok": False}
        assert str(tmp_path) not in response.text and "no-such-bucket" not in response.text


def test_doctor_checks_the_bucket(tmp_path: Path, bucket_url: str) -> None:
    media_url = bucket_url
    aws = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    done = doctor(tmp_path, "--sandbox", KIE_WEBHOOK_PORT="0", KIE_MEDIA_URL=media_url, **aws)
    line = next(line for line in done.stdout.splitlines() if "media store" in line)
    assert "[ok]" in line and media_url in line and "put, get and delete work" in line
    assert done.returncode == 0, done.stdout + done.stderr

    missing = "s3://no-such-bucket-for-kie/media"
    done = doctor(tmp_path, "--sandbox", KIE_WEBHOOK_PORT="0", KIE_MEDIA_URL=missing, **aws)
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if "media store" in line)
    assert "[FAIL]" in line and "not usable" in line and "AWS_ENDPOINT_URL" in line
    assert aws["AWS_SECRET_ACCESS_KEY"] not in done.stdout + done.stderr


async def test_an_unsupported_media_url_stops_the_start_with_a_sentence(tmp_path: Path) -> None:
    settings = Settings(sandbox=True, data_dir=tmp_path, webhook_port=0, media_url="ftp://x/y")
    with pytest.raises(SystemExit, match="s3://bucket/prefix"):
        async with open_runtime(settings):
            pass
