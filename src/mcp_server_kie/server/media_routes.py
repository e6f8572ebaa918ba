"""Local HTTP access to the library: files by id, with Range, and live job events (SSE).

Only ids reach these handlers: a path from the request never touches the filesystem. A file is
served only if the store knows it and the media store holds it (a local file must lie inside
the media folder; see media.local). Local files go out as files (sendfile, Range); objects in
a bucket stream through ``object_response`` (with Range too). A request the access
policy refuses gets 401 (token mode) or the same 404 as a route that does not exist.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import PurePosixPath

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mcp_server_kie.domain import Job
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.media import MediaStore, MissingMedia
from mcp_server_kie.server.access import LocalAccess
from mcp_server_kie.server.object_response import object_response
from mcp_server_kie.storage import Store
from mcp_server_kie.tools.results import MediaLinks, job_json

ASSET_ID = re.compile(r"asset_[0-9a-f]{24}")
JOB_ID = re.compile(r"job_[0-9a-f]{24}")
# Files never change once stored (a new result gets a new id), so caches may keep them.
_CACHE = "private, max-age=31536000, immutable"
_PING_SECONDS = 15
_EVENT_PAGE = 500


def media_routes(
    store: Store, signals: JobSignals, media: MediaStore, access: LocalAccess, links: MediaLinks
) -> list[BaseRoute]:

    async def media_file(request: Request) -> Response:
        return await _serve(request, thumbnail=False)

    async def thumbnail(request: Request) -> Response:
        return await _serve(request, thumbnail=True)

    async def _serve(request: Request, *, thumbnail: bool) -> Response:
        asset_id = request.path_params["asset_id"]
        refused = access.refusal(request)
        if refused is not None:
            return _refuse(refused)
        if not ASSET_ID.fullmatch(asset_id):
            return _not_found()
        asset = await store.get_asset(asset_id)
        name = asset and (asset.thumbnail_path if thumbnail else asset.path)
        if asset is None or not name:
            return _not_found()
        mime = "image/jpeg" if thumbnail else asset.mime_type
        filename = f"{asset.job_id}-{asset.index}{PurePosixPath(name).suffix}"
        download = request.query_params.get("download") == "1"
        headers = {"Cache-Control": _CACHE, "X-Content-Type-Options": "nosniff"}
        path = await asyncio.to_thread(media.local_path, name)
        if path is not None:
            return FileResponse(
                path,
                media_type=mime,
                filename=filename,
                content_disposition_type="attachment" if download else "inline",
                headers=headers,
            )
        disposition = "attachment" if download else "inline"
        headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
        try:
            return await object_response(media, name, request, mime, headers)
        except MissingMedia:
            return _not_found()

    async def events(request: Request) -> Response:
        refused = access.refusal(request)
        if refused is not None:
            return _refuse(refused)
        only = request.query_params.get("job_id")
        if only is not None and not JOB_ID.fullmatch(only):
            return JSONResponse({"error": "job_id is not a job id"}, status_code=400)
        resume = request.headers.get("last-event-id", "").strip()
        if resume and not resume.isdigit():
            return JSONResponse({"error": "Last-Event-ID is not an event id"}, status_code=400)
        return EventSourceResponse(
            _job_events(store, signals, only, links, int(resume) if resume else None),
            ping=_PING_SECONDS,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return [
        Route("/media/{asset_id}", media_file, methods=["GET", "HEAD"]),
        Route("/media/{asset_id}/thumbnail", thumbnail, methods=["GET", "HEAD"]),
        Route("/events", events, methods=["GET"]),
    ]


async def _job_events(
    store: Store, signals: JobSignals, only: str | None, links: MediaLinks, resume: int | None
) -> AsyncIterator[ServerSentEvent]:
    """A ``job`` event (the job result JSON) per state change, in order.

    Status changes are rows of the store's job_events table, and their events carry that
    row's id and the status it recorded (the job as it is now otherwise: a job that moved on
    fast still shows each status it passed through), so a client reconnecting with
    ``Last-Event-ID`` gets exactly the rows it missed (written by any process on the store),
    each once. Changes between two rows (kie's own state moving along) are sent without an
    id: the next row's event supersedes them.
    """
    sent: dict[str, tuple[object, ...]] = {}  # what each job looked like when last sent
    with signals.watch() as queue:  # watch first: nothing falls between catch-up and live
        cursor = resume if resume is not None else await store.last_job_event()
        yield ServerSentEvent(comment="watching jobs")
        while True:
            rows = await store.job_events_after(cursor, limit=_EVENT_PAGE)
            for event_id, job_id, status in rows:
                cursor = event_id
                job = await store.get_job(job_id) if only in (None, job_id) else None
                if job is not None:
                    job = replace(job, status=status)
                    sent[job.id] = _looks(job)
                    yield _job_event(job, links, event_id)
            if len(rows) == _EVENT_PAGE:
                continue  # catching up: read the next page before waiting
            changed: Job | None = await queue.get()
            if changed is None:  # fell behind: tell the client to reload its view
                yield ServerSentEvent(event="resync", data="{}")
                return
            if only not in (None, changed.id) or sent.get(changed.id) == _looks(changed):
                continue
            if not await store.job_events_after(cursor, limit=1):  # kie's state moved along
                if len(sent) > _EVENT_PAGE:
                    sent.clear()
                sent[changed.id] = _looks(changed)
                yield _job_event(changed, links, None)


def _looks(job: Job) -> tuple[object, ...]:
    return (job.status, job.task_state, len(job.assets))


def _job_event(job: Job, links: MediaLinks, event_id: int | None) -> ServerSentEvent:
    data = json.dumps(job_json(job, links))
    return ServerSentEvent(event="job", id=None if event_id is None else str(event_id), data=data)


def _not_found() -> Response:
    return JSONResponse({"error": "not found"}, status_code=404)


def _refuse(status: int) -> Response:
    if status == 401:
        return JSONResponse(
            {"error": "a token is required"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="mcp-server-kie"'},
        )
    return _not_found()
