"""Browser-facing defences: response headers, cookies, and CSRF checks.

The CSRF check is one app-wide dependency, so a form added to any router later is
protected without remembering to opt in. It applies where a browser would send
credentials on its own: requests carrying our session cookie, and the login form
(guarded by a signed pre-session cookie so a third-party page cannot log a victim
into an attacker's account). Bearer-token requests are not exposed to CSRF.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salescope.errors import PermissionDeniedError
from salescope.services import auth

SESSION_COOKIE = "salescope_session"
LOGIN_COOKIE = "salescope_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # ECharts writes inline style attributes into its tooltips; styles cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)

_HEADERS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
)


class SecurityHeaders:
    """Adds the security headers to every response; pages and API answers are never cached (they carry data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")
        https = scope.get("scheme") == "https"

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in _HEADERS:
                    headers.setdefault(key, value)
                if not static:
                    headers.setdefault("cache-control", "no-store")
                if https:
                    headers.setdefault("strict-transport-security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, add_headers)


def is_secure(request: Request) -> bool:
    settings = request.app.state.workspace.settings
    return bool(settings.web.secure_cookies) or request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None) -> None:
    """Every cookie we set is HttpOnly and SameSite=Lax, and Secure behind HTTPS."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=is_secure(request)
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_secure(request))


def login_token(request: Request) -> str:
    """The signed pre-session token for the login form: reuse the browser's valid one, else mint one."""
    key = request.app.state.signing_key
    current = request.cookies.get(LOGIN_COOKIE, "")
    if current and auth.unsign(key, current) is not None:
        return current
    return auth.sign(key, secrets.token_urlsafe(24))


async def submitted_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request whose CSRF token does not match the browser's session or login cookie."""
    if request.method not in UNSAFE_METHODS or request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    ws = request.app.state.workspace
    session_cookie = request.cookies.get(SESSION_COOKIE)
    session = await run_in_threadpool(auth.session_for, ws, session_cookie) if session_cookie else None
    if session is not None:
        expected = session.csrf_token
    elif request.url.path == "/login":
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or auth.unsign(request.app.state.signing_key, cookie) is None:
            raise PermissionDeniedError(
                "The login form has expired or cookies are blocked; reload the login page and try again."
            )
        expected = cookie
    else:
        return  # no ambient credentials to abuse; authentication answers 401
    submitted = await submitted_token(request)
    if not submitted or not hmac.compare_digest(submitted, expected):
        raise PermissionDeniedError("The form's security token is missing or stale; reload the page and try again.")
