"""One error shape for the API, small bilingual pages for people, and no tracebacks for anyone.

``/api/...`` answers every failure — 401, 403, 404, 405, 422, 429 and 500 — as
``{"ok": false, "status": N, "error": "<one sentence>", "errors": [...]}``. Pages
send an unauthenticated visitor to the login form and show other failures as a
short page in both languages.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from salescope.engine.warehouse import QueryError
from salescope.errors import AuthenticationError, SalescopeError
from salescope.web.auth import resolve_api_principal

log = logging.getLogger("salescope.web")

API_PREFIX = "/api/"

_TITLES: dict[int, tuple[str, str]] = {
    400: ("请求有误", "Bad request"),
    401: ("需要登录", "Login required"),
    403: ("没有权限", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("不支持的请求方法", "Method not allowed"),
    409: ("资源被占用", "Conflict"),
    422: ("请求参数有误", "Invalid request"),
    429: ("请求过于频繁", "Too many requests"),
    500: ("服务器内部错误", "Internal error"),
}

_DEFAULT_MESSAGES: dict[int, str] = {
    401: "Authentication required: send 'Authorization: Bearer TOKEN' or log in.",
    403: "You do not have permission for this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    500: "Internal error; the server log has the details.",
}


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIX)


def error_json(
    status: int, message: str, errors: list[Any] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"ok": False, "status": status, "error": message, "errors": list(errors or [])}
    return JSONResponse(body, status_code=status, headers=headers)


def error_page(status: int, message: str) -> HTMLResponse:
    """Self-contained (no template, no catalog) so it renders even when the failure is in rendering."""
    zh, en = _TITLES.get(status, ("出错了", "Error"))
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<title>{status} {zh} / {en}</title><link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/static/app.css"></head>'
        f'<body class="error-page"><main class="error-box"><h1>{status}</h1>'
        f"<p><strong>{zh}</strong> / {en}</p><p>{escape(message)}</p>"
        '<p><a href="/">返回概览 / Back to the overview</a></p></main></body></html>'
    )
    return HTMLResponse(html, status_code=status)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def respond(request: Request, status: int, message: str, errors: list[Any] | None = None) -> Response:
    if is_api(request.url.path):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return error_json(status, message, errors, headers)
    if status == 401:
        return login_redirect(request)
    return error_page(status, message)


def _validation_messages(exc: RequestValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        out.append(f"{where}: {err.get('msg', 'invalid value')}")
    return out


async def _authenticated(request: Request) -> bool:
    try:
        await run_in_threadpool(resolve_api_principal, request)
    except AuthenticationError:
        return False
    return True


def install(app: FastAPI) -> None:
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail else _DEFAULT_MESSAGES.get(exc.status_code)
        message = detail or "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is nothing at {request.url.path}."
        if exc.status_code == 405 and message == "Method Not Allowed":
            message = f"{request.method} is not allowed on {request.url.path}."
        if is_api(request.url.path) and exc.status_code in (404, 405) and not await _authenticated(request):
            # Without credentials the API says nothing, not even which endpoints exist.
            return respond(request, 401, _DEFAULT_MESSAGES[401])
        response = respond(request, exc.status_code, message)
        for key, value in (exc.headers or {}).items():
            response.headers.setdefault(key, value)
        return response

    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        messages = _validation_messages(exc)
        summary = "Invalid request: " + "; ".join(messages) if messages else "Invalid request."
        if is_api(request.url.path):
            return error_json(422, summary, messages)
        return error_page(400, summary)

    async def salescope_error(request: Request, exc: SalescopeError) -> Response:
        if isinstance(exc, QueryError):  # a failing query is our bug, and its SQL is not for the client
            log.error("query failed on %s %s: %s\n%s", request.method, request.url.path, exc.message, exc.sql)
            return respond(request, 500, _DEFAULT_MESSAGES[500])
        return respond(request, exc.status, exc.message, exc.details if exc.status < 500 else [])

    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(SalescopeError, salescope_error)  # type: ignore[arg-type]


class ErrorGuard:
    """Turns any unhandled exception into the pinned 500 shape (or page), logging the traceback server-side only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            path = scope.get("path", "")
            message = _DEFAULT_MESSAGES[500]
            response = error_json(500, message) if is_api(path) else error_page(500, message)
            await response(scope, receive, send)
