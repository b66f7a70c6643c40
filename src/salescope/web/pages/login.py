"""Logging in and out through the form at ``/login`` (fields ``username`` and ``password``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from salescope.errors import AuthenticationError, RateLimitedError
from salescope.i18n import translate
from salescope.services import auth
from salescope.web.auth import current_session
from salescope.web.rendering import locale_of, render
from salescope.web.security import LOGIN_COOKIE, SESSION_COOKIE, clear_cookie, login_token, set_cookie

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE_SECONDS = 24 * 3600


def safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form cannot be used to bounce people to another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _form(request: Request, *, next_url: str, username: str = "", error: str = "", status_code: int = 200) -> Response:
    token = login_token(request)
    response = render(
        request,
        "login.html",
        {"login_csrf": token, "next_url": next_url, "username": username, "error": error},
        status_code=status_code,
    )
    set_cookie(request, response, LOGIN_COOKIE, token, max_age=LOGIN_COOKIE_SECONDS)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    target = safe_next(next)
    if current_session(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _form(request, next_url=target)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    ws = request.app.state.workspace
    address = request.client.host if request.client else None
    target = safe_next(next)
    locale = locale_of(request)
    try:
        principal = auth.authenticate(ws, username, password, address=address)
    except RateLimitedError as exc:
        message = translate("login.locked", locale, detail=exc.message)
        return _form(request, next_url=target, username=username, error=message, status_code=429)
    except AuthenticationError:
        message = translate("login.failed", locale)
        return _form(request, next_url=target, username=username, error=message, status_code=401)
    token, _ = auth.start_session(ws, principal, address=address)
    response = RedirectResponse(target, status_code=303)
    max_age = ws.settings.web.session_hours * 3600
    set_cookie(request, response, SESSION_COOKIE, token, max_age=max_age)
    clear_cookie(request, response, LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        address = request.client.host if request.client else None
        auth.end_session(request.app.state.workspace, cookie, address=address)
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    return response
