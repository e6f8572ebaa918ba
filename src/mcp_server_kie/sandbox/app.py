"""The sandbox's HTTP surface: kie's API routes for every family, uploads, the CDN route and
the request log.

API routes answer HTTP 200 with kie's `{"code", "msg", "data"}` envelope and the business
status in `code` (upload routes add `"success"`); a route that does not exist is a real HTTP
404, as on the live service.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server_kie.sandbox.aleph import ALEPH
from mcp_server_kie.sandbox.config import RecordFault
from mcp_server_kie.sandbox.errors import NO_ACCESS, ApiError, message_for
from mcp_server_kie.sandbox.flux import FLUX_KONTEXT
from mcp_server_kie.sandbox.gpt4o import GPT4O
from mcp_server_kie.sandbox.market import MARKET
from mcp_server_kie.sandbox.runway import RUNWAY, RUNWAY_EXTEND
from mcp_server_kie.sandbox.suno import SUNO
from mcp_server_kie.sandbox.tasks import Family
from mcp_server_kie.sandbox.uploads import MAX_STREAM_BYTES
from mcp_server_kie.sandbox.veo import VEO
from mcp_server_kie.sandbox.veo_followups import VEO_4K, VEO_EXTEND

if TYPE_CHECKING:
    from mcp_server_kie.sandbox.simulator import Sandbox

Handler = Callable[[Request], Awaitable[Any]]
Endpoint = Callable[[Request], Awaitable[Response]]

FAMILIES: tuple[Family, ...] = (
    MARKET,
    GPT4O,
    FLUX_KONTEXT,
    VEO,
    VEO_EXTEND,
    VEO_4K,
    RUNWAY,
    RUNWAY_EXTEND,
    ALEPH,
    SUNO,
)
UPLOADED = "File uploaded successfully"


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request the sandbox received. `time` is on the sandbox clock."""

    method: str
    path: str
    query: dict[str, str]
    time: float


class _RequestLog:
    """ASGI middleware appending every HTTP request to the sandbox's request log."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self._app = app
        self._sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_query = scope.get("query_string", b"").decode("latin-1")
            entry = LoggedRequest(
                method=scope["method"],
                path=scope["path"],
                query=dict(parse_qsl(raw_query, keep_blank_values=True)),
                time=self._sandbox.clock(),
            )
            self._sandbox.requests.append(entry)
        await self._app(scope, receive, send)


async def _hung_up(request: Request, *, within: float) -> None:
    """Return once the client has hung up, or after `within` seconds."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while (await request.receive())["type"] != "http.disconnect":
                pass


def envelope(
    code: int, msg: str, data: object = None, status_code: int = 200, upload: bool = False
) -> JSONResponse:
    body: dict[str, object] = {"code": code, "msg": msg, "data": data}
    if upload:
        body = {"success": code == 200, **body}
    return JSONResponse(body, status_code=status_code)


async def _json_body(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise ApiError(400, "The request body is not valid JSON") from exc


class _Routes:
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._expected = f"Bearer {sandbox.config.api_key}".encode()

    def api(self, handler: Handler, *, upload: bool = False) -> Endpoint:
        """Wrap a handler: check the key, envelope its result, turn ApiError into a body code."""

        async def endpoint(request: Request) -> Response:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, self._expected):
                return envelope(401, NO_ACCESS, upload=upload)
            try:
                data = await handler(request)
            except ApiError as error:
                return envelope(error.code, error.msg, upload=upload)
            return envelope(200, UPLOADED if upload else "success", data, upload=upload)

        return endpoint

    def creator(self, family: Family) -> Endpoint:
        async def create(request: Request) -> dict[str, Any]:
            task = self._sandbox.create(family, await _json_body(request))
            delay = self._sandbox.faults.create_delay
            if delay > 0:
                await asyncio.sleep(delay)
            return family.created(task)

        return self.api(create)

    def recorder(self, family: Family) -> Endpoint:
        async def record(request: Request) -> dict[str, Any]:
            task_id = request.query_params.get("taskId", "").strip()
            if not task_id:
                raise ApiError(400, "taskId is required")
            return self._sandbox.record(family, task_id)

        answer = self.api(record)

        async def record_or_fault(request: Request) -> Response:
            faults = self._sandbox.faults
            fault = faults.record_faults.popleft() if faults.record_faults else None
            if fault is None and faults.record_info_http_status is not None:
                fault = RecordFault.http(faults.record_info_http_status)
            if fault is None:
                return await answer(request)
            if fault.reset:
                if self._sandbox.reset_connection(request.scope.get("client")):
                    await _hung_up(request, within=5.0)
                    return Response(status_code=500)  # goes nowhere: the connection is gone
                return Response(status_code=502)
            if fault.stall > 0:
                await _hung_up(request, within=fault.stall)
                return await answer(request)
            status = fault.status or 500
            reply = envelope(status, message_for(status), status_code=status)
            if fault.retry_after is not None:
                reply.headers["Retry-After"] = f"{fault.retry_after:g}"
            return reply

        return record_or_fault

    async def veo_1080p(self, request: Request) -> dict[str, str]:
        task_id = request.query_params.get("taskId", "").strip()
        if not task_id:
            raise ApiError(400, "taskId is required")
        return self._sandbox.veo_1080p(task_id, request.query_params.get("index", "0").strip())

    def discovery(self, handler: Handler) -> Endpoint:
        """A discovery endpoint, or the status `faults.discovery_status` names."""
        answer = self.api(handler)

        async def endpoint(request: Request) -> Response:
            status = self._sandbox.faults.discovery_status
            if status is not None:
                return envelope(status, message_for(status), status_code=status)
            return await answer(request)

        return endpoint

    async def models(self, request: Request) -> dict[str, Any]:
        return self._sandbox.shelf.listing(request.query_params)

    async def model_info(self, request: Request) -> dict[str, Any]:
        """`/api/v1/models/{model}/schema|price|success-rate`; the model id keeps its slashes."""
        rest: str = request.path_params["rest"]
        model, _, what = rest.rpartition("/")
        shelf = self._sandbox.shelf
        answers = {"schema": shelf.schema, "price": shelf.price, "success-rate": shelf.success_rate}
        if not model or what not in answers:
            raise ApiError(404, "Unknown model endpoint")
        return answers[what](model)

    async def credit(self, request: Request) -> float:
        return self._sandbox.credits

    async def download_url(self, request: Request) -> str:
        body = await _json_body(request)
        url = body.get("url") if isinstance(body, dict) else None
        return self._sandbox.download_url(url)

    async def stream_upload(self, request: Request) -> dict[str, object]:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_STREAM_BYTES + 64 * 1024:
            raise ApiError(400, "The file is larger than 100 MB")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise ApiError(400, "The body must be multipart/form-data")
        try:
            async with request.form(max_files=1, max_fields=16) as form:
                file = form.get("file")
                if not isinstance(file, UploadFile):
                    raise ApiError(400, "file is required")
                data = await file.read(MAX_STREAM_BYTES + 1)
                if len(data) > MAX_STREAM_BYTES:
                    raise ApiError(400, "The file is larger than 100 MB")
                fields = (form.get("uploadPath"), form.get("fileName"))
                return self._sandbox.upload(data, *fields, file.content_type, file.filename)
        except (HTTPException, MultiPartException) as exc:
            raise ApiError(400, "The multipart body could not be read") from exc

    async def base64_upload(self, request: Request) -> dict[str, object]:
        return self._sandbox.upload_base64(await _json_body(request))

    async def url_upload(self, request: Request) -> dict[str, object]:
        raise ApiError(422, "file-url-upload is not supported in the sandbox: upload the bytes")

    async def cdn(self, request: Request) -> Response:
        path = request.scope["path"]  # decoded, as upload names may hold spaces and the like
        media = await self._sandbox.cdn_file(path, request.query_params.get("expires"))
        if media is None:
            return PlainTextResponse("Not Found", status_code=404)
        headers = {"ETag": f'"{media.sha256}"', "Cache-Control": "private, max-age=600"}
        return Response(media.data, media_type=media.content_type, headers=headers)


def build_app(sandbox: Sandbox) -> Starlette:
    routes = _Routes(sandbox)
    table: list[Route] = []
    for family in FAMILIES:  # an operation's tasks are read where its source family's are
        table.append(Route(family.create_path, routes.creator(family), methods=["POST"]))
        if all(route.path != family.record_path for route in table):
            table.append(Route(family.record_path, routes.recorder(family), methods=["GET"]))
    uploads = {
        "/api/file-stream-upload": routes.stream_upload,
        "/api/file-base64-upload": routes.base64_upload,
        "/api/file-url-upload": routes.url_upload,
    }
    table.extend(Route(p, routes.api(h, upload=True), methods=["POST"]) for p, h in uploads.items())
    table += [
        Route(VEO.hd_path, routes.api(routes.veo_1080p), methods=["GET"]),
        Route("/api/v1/chat/credit", routes.api(routes.credit), methods=["GET"]),
        Route("/api/v1/models", routes.discovery(routes.models), methods=["GET"]),
        Route("/api/v1/models/{rest:path}", routes.discovery(routes.model_info), methods=["GET"]),
        Route("/api/v1/common/download-url", routes.api(routes.download_url), methods=["POST"]),
        Route("/cdn/{path:path}", routes.cdn, methods=["GET"]),
    ]
    return Starlette(routes=table, middleware=[Middleware(_RequestLog, sandbox=sandbox)])
