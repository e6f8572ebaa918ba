"""The gallery's page and its static files: a server-rendered shell (Jinja2, loaded on the
first page view rather than at start-up: the templates cost ~40 ms that tools/list need not wait
for).

The page holds no library data (its script fetches that from the JSON routes); it does hold
the model filter's choices, which are the models offered now: the live catalogue when kie's
list is refreshed (jobs.catalogue), else the committed file. So the page is rendered again
whenever the catalogue in use changes, and served from memory otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_server_kie.catalog import Catalogue
from mcp_server_kie.domain import JobStatus, MediaKind
from mcp_server_kie.tools.library import CLEAR_ALL_CONFIRMATION

if TYPE_CHECKING:
    from jinja2 import Environment

ASSETS_DIR = Path(__file__).with_name("gallery")
STATIC_TYPES = {
    "gallery.css": "text/css; charset=utf-8",
    "gallery.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
PAGE_SIZE = 24
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_GROUPS = (("Images", MediaKind.IMAGE), ("Videos", MediaKind.VIDEO), ("Audio", MediaKind.AUDIO))


class GalleryPage:
    """The page for the catalogue ``offered()`` names now, the token page and the static
    files (a fixed list, read once)."""

    def __init__(self, offered: Callable[[], Catalogue]) -> None:
        self._offered = offered
        self.static = {name: (ASSETS_DIR / name).read_bytes() for name in STATIC_TYPES}
        self._rendered: tuple[Catalogue, str] | None = None

    @functools.cached_property
    def _templates(self) -> Environment:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

        return Environment(
            loader=FileSystemLoader(ASSETS_DIR),
            autoescape=select_autoescape(("html",)),
            undefined=StrictUndefined,
            auto_reload=False,
        )

    @functools.cached_property
    def token_html(self) -> str:
        """The page that asks for the access token."""
        return self._templates.get_template("token.html").render()

    def html(self) -> str:
        """The page, with a model filter of the models offered now."""
        catalogue = self._offered()
        if self._rendered is None or self._rendered[0] is not catalogue:
            self._rendered = (catalogue, self._render(catalogue))
        return self._rendered[1]

    def _render(self, catalogue: Catalogue) -> str:
        return self._templates.get_template("index.html").render(
            model_groups=[
                (title, [(spec.id, spec.title) for spec in catalogue.specs if spec.kind is kind])
                for title, kind in _GROUPS
            ],
            statuses=[status.value for status in JobStatus],
            confirmation=CLEAR_ALL_CONFIRMATION,
            page_size=PAGE_SIZE,
        )
