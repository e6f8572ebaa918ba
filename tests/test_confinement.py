"""One confinement rule for every way a file leaves the server or is deleted by it.

A finished job's files are swapped for hostile ones on disk or in the database (a symlink out
of the media folder, a stored path that climbs out with `..`), and each route is tried: the
`/media` and thumbnail routes, `media://` resources, `delete_media`, the gallery's deletes,
and reference images (prefix-sibling folders, NUL, the size cap at its exact limit).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_server_kie.domain import UserInputError
from mcp_server_kie.jobs.references import ReferenceResolver
from mcp_server_kie.media.confine import confined, confined_to_any
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.gallery import GALLERY_HEADER
from mcp_server_kie.server.runtime import Runtime
from support import call, eventually, previews_made, sandbox_and_runtime
from test_references import png_bytes, request_with

SECRET = b"\x89PNG\r\n\x1a\n top secret bytes outside the media folder"


@asynccontextmanager
async def finished(tmp_path: Path) -> AsyncIterator[tuple[Runtime, dict[str, Any]]]:
    """A runtime with one completed image job; its output as the tool reported it."""
    async with sandbox_and_runtime(tmp_path / "data", webhooks=False, image_seconds=0.1) as (
        _sandbox,
        runtime,
    ):
        async with Client(build_server(runtime.tools)) as client:
            job = await call(client, "generate_image", {"prompt": "a cat", "wait_seconds": 20})
        assert job["status"] == "completed", job
        await eventually(lambda: previews_made(runtime, job["job_id"]), what="the preview")
        async with Client(build_server(runtime.tools)) as client:
            job = await call(client, "get_status", {"job_id": job["job_id"]})
        yield runtime, job["outputs"][0]


def plant_symlink_out(target: Path, tmp_path: Path) -> Path:
    secret = tmp_path / "secret.png"
    secret.write_bytes(SECRET)
    target.unlink()
    target.symlink_to(secret)
    return secret


def asset_row(runtime: Runtime, asset_id: str) -> sqlite3.Row:
    with sqlite3.connect(runtime.settings.database_path) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM assets WHERE id = ?", (asset_id,)).fetchone()


@pytest.mark.parametrize("which", ["path", "thumbnail_path"])
async def test_media_route_refuses_a_symlink_out_of_the_media_folder(
    tmp_path: Path, which: str
) -> None:
    async with finished(tmp_path) as (runtime, output):
        plant_symlink_out(Path(asset_row(runtime, output["asset_id"])[which]), tmp_path)
        route = "media" if which == "path" else "thumbnails"
        async with httpx2.AsyncClient(base_url=runtime.sidecar_url or "") as http:
            response = await http.get(f"/{route}/{output['asset_id']}")
        assert response.status_code == 404
        assert SECRET not in response.content


@pytest.mark.parametrize("scheme", ["media", "thumbnail"])
async def test_resources_read_refuses_a_symlink_out_of_the_media_folder(
    tmp_path: Path, scheme: str
) -> None:
    async with finished(tmp_path) as (runtime, output):
        row = asset_row(runtime, output["asset_id"])
        plant_symlink_out(Path(row["path" if scheme == "media" else "thumbnail_path"]), tmp_path)
        async with Client(build_server(runtime.tools)) as client:
            suffix = "" if scheme == "media" else "/thumbnail"
            uri = f"media://{output['asset_id']}{suffix}"
            with pytest.raises(MCPError, match="outside the media folder"):
                await client.read_resource(uri)


@pytest.mark.parametrize("route", ["tool_asset", "tool_job", "gallery_asset", "gallery_job"])
async def test_deletes_never_touch_a_file_outside_the_media_folder(
    tmp_path: Path, route: str
) -> None:
    async with finished(tmp_path) as (runtime, output):
        media_dir = runtime.settings.media_dir
        victim = media_dir.parent / "victim.png"
        victim.write_bytes(SECRET)
        linked = tmp_path / "linked.png"
        linked.write_bytes(SECRET)
        row = asset_row(runtime, output["asset_id"])
        Path(row["thumbnail_path"]).unlink()
        Path(row["thumbnail_path"]).symlink_to(linked)
        climbing = str(media_dir / ".." / "victim.png")  # lexically under media/, really not
        with sqlite3.connect(runtime.settings.database_path) as db:
            db.execute("UPDATE assets SET path = ? WHERE id = ?", (climbing, row["id"]))
        if route.startswith("tool"):
            args = {"asset_id": row["id"]} if route == "tool_asset" else {"job_id": row["job_id"]}
            async with Client(build_server(runtime.tools)) as client:
                await call(client, "delete_media", args)
        else:
            base = runtime.sidecar_url or ""
            path = f"/api/assets/{row['id']}" if route == "gallery_asset" else None
            path = path or f"/api/jobs/{row['job_id']}"
            async with httpx2.AsyncClient(base_url=base) as http:
                response = await http.delete(path, headers={"origin": base, GALLERY_HEADER: "1"})
            assert response.status_code == 200, response.text
        assert victim.read_bytes() == SECRET
        assert linked.read_bytes() == SECRET
        assert asset_row(runtime, row["id"]) is None  # the row went; only the files were kept


def test_the_rule_compares_path_components_and_follows_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "allowed"
    sibling = tmp_path / "allowed-evil"
    for folder in (root, sibling):
        folder.mkdir()
        (folder / "x.png").write_bytes(png_bytes())
    (root / "out.png").symlink_to(sibling / "x.png")
    (root / "in.png").symlink_to(root / "x.png")
    (root / "loop").symlink_to(root / "loop")
    assert confined(root / "x.png", root) == (root / "x.png").resolve()
    assert confined(root / "in.png", root) == (root / "x.png").resolve()
    assert confined(sibling / "x.png", root) is None
    assert confined(str(root) + "-evil/x.png", root) is None
    assert confined(root / "out.png", root) is None
    assert confined(root / ".." / "allowed-evil" / "x.png", root) is None
    assert confined(root / "missing.png", root) is None
    assert confined(root / "loop", root) is None
    assert confined(str(root / "x\0.png"), root) is None
    assert confined_to_any(root / "new.png", [sibling, root], must_exist=False) is not None
    assert confined_to_any(sibling / "new.png", [root], must_exist=False) is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("{root}-evil/x.png", "outside the folders"),
        ("{root}/x\0.png", "NUL"),
        ("{root}/out.png", "outside the folders"),
    ],
)
def test_reference_images_refuse_siblings_nul_and_symlinks_out(
    tmp_path: Path, name: str, message: str
) -> None:
    root = tmp_path / "allowed"
    (tmp_path / "allowed-evil").mkdir()
    root.mkdir()
    (tmp_path / "allowed-evil" / "x.png").write_bytes(png_bytes())
    os.symlink(tmp_path / "allowed-evil" / "x.png", root / "out.png")
    with pytest.raises(UserInputError, match=message):
        ReferenceResolver([root]).check(request_with(name.format(root=root)))


def test_reference_size_cap_holds_at_its_exact_limit(tmp_path: Path) -> None:
    data = png_bytes()
    (tmp_path / "cat.png").write_bytes(data)
    path = str(tmp_path / "cat.png")
    assert ReferenceResolver([tmp_path], max_bytes=len(data)).check(request_with(path))
    with pytest.raises(UserInputError, match="at most"):
        ReferenceResolver([tmp_path], max_bytes=len(data) - 1).check(request_with(path))
