"""The sandbox's HTTP surface: kie's API routes, the CDN route and the request log.

API routes answer HTTP 200 with kie's `{"code", "msg", "data"}` envelope and the business
status in `code`; a route that does not exist is a real HTTP 404, as on the live service.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server_kie.sandbox.errors import NO_ACCESS, ApiError, message_for

if TYPE_CHECKING:
    from mcp_server_kie.sandbox.simulator import Sandbox

Handler = Callable[[Request], Awaitable[Any]]


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


def envelope(code: int, msg: str, data: object = None, status_code: int = 200) -> JSONResponse:
    return JSONResponse({"code": code, "msg": msg, "data": data}, status_code=status_code)


async def _json_body(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise ApiError(400, "The request body is not valid JSON") from exc


class _Routes:
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._expected = f"Bearer {sandbox.config.api_key}".encode()
        self._record_info = self.api(self.record_info)

    def api(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: check the key, envelope its result, turn ApiError into a body code."""

        async def endpoint(request: Request) -> Response:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, self._expected):
                return envelope(401, NO_ACCESS)
            try:
                data = await handler(request)
            except ApiError as error:
                return envelope(error.code, error.msg)
            return envelope(200, "success", data)

        return endpoint

    async def create_task(self, request: Request) -> dict[str, str]:
        task = self._sandbox.create_task(await _json_body(request))
        delay = self._sandbox.faults.create_delay
        if delay > 0:
            await asyncio.sleep(delay)
        return {"taskId": task.task_id, "recordId": task.task_id}

    async def record_info(self, request: Request) -> dict[str, Any]:
        task_id = request.query_params.get("taskId", "").strip()
        if not task_id:
            raise ApiError(400, "taskId is required")
        return self._sandbox.record_info(task_id)

    async def credit(self, request: Request) -> float:
        return self._sandbox.credits

    async def download_url(self, request: Request) -> str:
        body = await _json_body(request)
        url = body.get("url") if isinstance(body, dict) else None
        return self._sandbox.download_url(url)

    async def record_info_or_fault(self, request: Request) -> Response:
        status = self._sandbox.faults.record_info_http_status
        if status is not None:
            return envelope(status, message_for(status), status_code=status)
        return await self._record_info(request)

    async def cdn(self, request: Request) -> Response:
        path = request.url.path
        media = await self._sandbox.cdn_file(path, request.query_params.get("expires"))
        if media is None:
            return PlainTextResponse("Not Found", status_code=404)
        headers = {"ETag": f'"{media.sha256}"', "Cache-Control": "private, max-age=600"}
        return Response(media.data, media_type=media.content_type, headers=headers)


def build_app(sandbox: Sandbox) -> Starlette:
    routes = _Routes(sandbox)
    return Starlette(
        routes=[
            Route("/api/v1/jobs/createTask", routes.api(routes.create_task), methods=["POST"]),
            Route("/api/v1/jobs/recordInfo", routes.record_info_or_fault, methods=["GET"]),
            Route("/api/v1/chat/credit", routes.api(routes.credit), methods=["GET"]),
            Route("/api/v1/common/download-url", routes.api(routes.download_url), methods=["POST"]),
            Route("/cdn/{path:path}", routes.cdn, methods=["GET"]),
        ],
        middleware=[Middleware(_RequestLog, sandbox=sandbox)],
    )
