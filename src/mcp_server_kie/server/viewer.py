"""The media viewer: an MCP Apps view (``ui://``) that hosts render inline beside a result.

One self-contained HTML document (viewer/viewer.html with its CSS and JavaScript inlined),
served as ``text/html;profile=mcp-app`` through the SDK's Apps extension. It loads nothing
from the network: files arrive through the host as ``media://`` resources, and the live status
line calls ``get_status`` through the host. Its declared CSP lists no outside domains, so a
host lets it reach none. The tools that show it carry ``_meta.ui.resourceUri`` (tools/).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from mcp.server.apps import Apps, ResourceCsp

from mcp_server_kie.tools import VIEWER_URI

ASSETS_DIR = Path(__file__).with_name("viewer")


@cache
def viewer_html() -> str:
    """The document with its stylesheet and script inlined (read once)."""
    page = (ASSETS_DIR / "viewer.html").read_text(encoding="utf-8")
    css = (ASSETS_DIR / "viewer.css").read_text(encoding="utf-8")
    script = (ASSETS_DIR / "viewer.js").read_text(encoding="utf-8")
    if "</script" in script.lower() or "</style" in css.lower():
        raise ValueError("the viewer's assets must not close their own element")
    return page.replace("/*VIEWER_CSS*/", css).replace("/*VIEWER_JS*/", script)


def viewer_extension() -> Apps:
    """The Apps extension serving the viewer document."""
    apps = Apps()
    apps.add_html_resource(
        VIEWER_URI,
        viewer_html(),
        name="viewer",
        title="Media viewer",
        description="Shows a job's image, video or audio with its status, prompt, model and "
        "credits, and a small library view for list_media.",
        csp=ResourceCsp(),  # no outside domain: no network at all
        prefers_border=True,
    )
    return apps
