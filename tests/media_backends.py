"""The media backends the library suite runs on: a local folder, and a bucket on a real
S3-compatible server (moto's standalone server, started by scripts/s3-server) reached through
obstore exactly as production reaches S3 (KIE_MEDIA_URL=s3://... and the AWS_* variables).

Loaded by conftest.py as a plugin. ``media_url`` is parametrized: None (the local folder) and
``s3://<fresh bucket>/media``.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2
import obstore
import pytest
from obstore.store import S3Store

from mcp_server_kie.media import MediaStore, MissingMedia

ROOT = Path(__file__).resolve().parents[1]
_RUNNING = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """One S3-compatible server for the session; its URL."""
    process = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "s3-server")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        url = None
        for line in process.stderr:  # ends at EOF if the server exits
            if found := _RUNNING.search(line):
                url = found[1]
                break
        assert url is not None, "scripts/s3-server exited before it listened"
        # Keep reading its request log, or the server would block on a full pipe.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def media_url(request: pytest.FixtureRequest) -> str | None:
    """KIE_MEDIA_URL for one run: None (the data folder) or a fresh bucket on the S3 server."""
    if request.param == "local":
        return None
    url: str = request.getfixturevalue("bucket_url")
    return url


@pytest.fixture
def bucket_url(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the S3 test server as KIE_MEDIA_URL, with the AWS_* variables set."""
    endpoint = s3_endpoint
    bucket = f"kie-test-{secrets.token_hex(6)}"
    created = httpx2.put(f"{endpoint}/{bucket}", timeout=10)
    assert created.status_code == 200, created.text
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", f"kie-test-secret-{secrets.token_hex(8)}")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return f"s3://{bucket}/media"


async def contents(media: MediaStore, under: str = "") -> list[str]:
    """Every location stored under ``under`` (a key prefix such as a job's folder), sorted;
    for the local folder, hidden temporary files included."""
    if media.backend == "local":
        root = Path(media.root) / under
        return sorted(str(path) for path in root.rglob("*") if path.is_file())
    bucket, prefix = media.root.removeprefix("s3://").split("/", 1)
    store = S3Store.from_url(f"s3://{bucket}", client_options={"allow_http": True})
    found = [
        item["path"]
        async for batch in obstore.list(store, f"{prefix}/{under}".rstrip("/"))
        for item in batch
    ]
    return sorted(f"s3://{bucket}/{path}" for path in found)


async def stored(media: MediaStore, location: str) -> bytes | None:
    """The bytes at ``location`` in ``media``, or None if nothing is there."""
    try:
        return await media.read(location, 1 << 31)
    except MissingMedia:
        return None
