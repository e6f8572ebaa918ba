"""The gallery: a page at ``/`` where a person browses, watches, filters and cleans up the library.

A server-rendered shell (Jinja2) and a little plain JavaScript that reads the JSON routes here
and follows ``/events``; no front-end build. Every route uses the same access policy as
``/media``. Routes that change something also refuse any request whose Origin is not this
server's own, and want a JSON body or a custom header (which a plain cross-site form cannot
send), so another web page open in the same browser cannot delete the library. Only ids from
the request reach the store. The page and its files: server.gallery_page; the list query:
server.gallery_filters.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mcp_server_kie.catalog import COMMITTED, Catalogue, get_model
from mcp_server_kie.domain import Job, UserInputError
from mcp_server_kie.jobs import Library
from mcp_server_kie.server.access import TOKEN_COOKIE, LocalAccess
from mcp_server_kie.server.gallery_filters import MediaFilters, explain
from mcp_server_kie.server.gallery_page import PAGE_HEADERS, STATIC_TYPES, GalleryPage
from mcp_server_kie.server.media_routes import ASSET_ID, JOB_ID
from mcp_server_kie.storage import BadCursor, Store
from mcp_server_kie.tools.library import CLEAR_ALL_CONFIRMATION, DeleteResult
from mcp_server_kie.tools.results import MediaLinks, job_json, page_json

log = logging.getLogger(__name__)

_MAX_BODY = 1024
# The header the page sends with every change; a cross-site form cannot set it.
GALLERY_HEADER = "x-requested-with"


def gallery_routes(
    store: Store,
    library: Library,
    links: MediaLinks,
    access: LocalAccess,
    offered: Callable[[], Catalogue] = lambda: COMMITTED,
) -> list[BaseRoute]:
    """The page, its static files and its JSON API, plus catch-alls that answer 404 for any
    other path under ``/static`` and ``/api``. ``offered`` is the catalogue in use now (its
    models fill the page's model filter)."""
    shell = GalleryPage(offered)
    static = shell.static

    async def page(request: Request) -> Response:
        refused = access.refusal(request)
        if refused == 401:
            return HTMLResponse(shell.token_html, 401, headers=PAGE_HEADERS)
        if refused is not None:
            return _error(404, "not found")
        presented = request.query_params.get("token")
        if access.token_required and presented is not None:
            # Trade the token in the address for a cookie, and take it out of the address bar.
            response = RedirectResponse("/", status_code=303, headers=PAGE_HEADERS)
            if access.is_token(presented):
                response.set_cookie(
                    TOKEN_COOKIE,
                    presented,
                    httponly=True,
                    samesite="strict",
                    secure=request.url.scheme == "https",
                    path="/",
                )
            return response
        return HTMLResponse(shell.html(), headers=PAGE_HEADERS)

    async def static_file(request: Request) -> Response:
        refused = access.refusal(request)
        name = request.path_params["name"]
        if refused is not None or name not in static:
            return _error(refused or 404, "not found")
        return Response(
            static[name],
            media_type=STATIC_TYPES[name],
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    async def list_media(request: Request) -> Response:
        refused = access.refusal(request)
        if refused is not None:
            return _error(refused, "not found")
        try:
            filters = MediaFilters.model_validate(dict(request.query_params))
            query = filters.to_query()
        except ValidationError as exc:
            return _error(400, explain(exc))
        except BadCursor as exc:
            return _error(400, str(exc))
        found = await store.list_jobs(query)
        return _json(page_json(found.jobs, found.next_cursor, links))

    async def job_detail(request: Request) -> Response:
        refused = access.refusal(request)
        job_id = request.path_params["job_id"]
        if refused is not None or not JOB_ID.fullmatch(job_id):
            return _error(refused or 404, "not found")
        job = await store.get_job(job_id)
        if job is None:
            return _error(404, f"no job {job_id}")
        events = await store.job_events(job_id)
        return _json(
            {
                "job": job_json(job, links),
                "aspect_ratio": _aspect_ratio(job),
                "settings": {
                    key: value
                    for key, value in sorted(job.params.items())
                    if isinstance(value, str | int | float | bool)
                },
                "events": [
                    {"at": _iso(at), "from": old, "to": new, "cause": cause}
                    for at, old, new, cause in events
                ],
            }
        )

    async def delete_job(request: Request) -> Response:
        refused = _change_refusal(request, access)
        job_id = request.path_params["job_id"]
        if refused is not None:
            return refused
        if not JOB_ID.fullmatch(job_id) or await store.get_job(job_id) is None:
            return _error(404, "no such job")
        try:
            deleted = await library.delete_job(job_id)
        except UserInputError as exc:  # still running: kie.ai is working on it
            return _error(409, str(exc))
        log.info("gallery deleted job %s (%d files)", job_id, deleted.files)
        return _json(_deleted(deleted.jobs, deleted.files, deleted.bytes))

    async def delete_asset(request: Request) -> Response:
        refused = _change_refusal(request, access)
        asset_id = request.path_params["asset_id"]
        if refused is not None:
            return refused
        if not ASSET_ID.fullmatch(asset_id):
            return _error(404, "no such file")
        try:
            deleted = await library.delete_asset(asset_id)
        except UserInputError:
            return _error(404, "no such file")
        log.info("gallery deleted asset %s", asset_id)
        return _json(_deleted(deleted.jobs, deleted.files, deleted.bytes))

    async def clear(request: Request) -> Response:
        refused = _change_refusal(request, access)
        if refused is not None:
            return refused
        body = await _json_body(request)
        if body is None or body.get("confirm") != CLEAR_ALL_CONFIRMATION:
            return _error(
                400,
                f'send {{"confirm": "{CLEAR_ALL_CONFIRMATION}"}} to delete every finished job',
            )
        deleted = await library.clear()
        log.info("gallery cleared the library: %d jobs, %d files", deleted.jobs, deleted.files)
        return _json(_deleted(deleted.jobs, deleted.files, deleted.bytes))

    async def not_found(request: Request) -> Response:
        return _error(404, "not found")

    return [
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static_file, methods=["GET"]),
        Route("/api/media", list_media, methods=["GET"]),
        Route("/api/jobs/{job_id}", job_detail, methods=["GET"]),
        Route("/api/jobs/{job_id}", delete_job, methods=["DELETE"]),
        Route("/api/assets/{asset_id}", delete_asset, methods=["DELETE"]),
        Route("/api/clear", clear, methods=["POST"]),
        Route("/static/{rest:path}", not_found),
        Route("/api/{rest:path}", not_found),
    ]


def _change_refusal(request: Request, access: LocalAccess) -> Response | None:
    """The answer to a state-changing request that may not proceed, else None."""
    refused = access.refusal(request)
    if refused is not None:
        return _error(refused, "not found")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    if request.headers.get("origin", "").lower() != own:
        return _error(403, "refused: the request must come from this gallery's own page")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and GALLERY_HEADER not in request.headers:
        return _error(403, f"refused: send Content-Type: application/json or {GALLERY_HEADER}")
    return None


async def _json_body(request: Request) -> dict[str, Any] | None:
    """A small JSON object body, or None for anything else."""
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > _MAX_BODY:
            return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _aspect_ratio(job: Job) -> str | None:
    try:
        field_name = get_model(job.model, job.kind).knobs.get("aspect_ratio")
    except UserInputError:  # a model no longer in the catalogue
        return None
    value = job.params.get(field_name) if field_name else None
    return str(value) if value is not None else None


def _deleted(jobs: int, files: int, freed: int) -> dict[str, Any]:
    return DeleteResult(jobs_deleted=jobs, files_deleted=files, bytes_freed=freed).model_dump()


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _json(data: object) -> JSONResponse:
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


def _error(status: int, message: str) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        message = "a token is required"
        headers["WWW-Authenticate"] = 'Bearer realm="mcp-server-kie"'
    return JSONResponse({"error": message}, status_code=status, headers=headers)
