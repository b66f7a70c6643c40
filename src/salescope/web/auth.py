"""Who is asking: the principal behind a page request (session cookie) or an API call (bearer token or cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from salescope.errors import AuthenticationError
from salescope.services import auth
from salescope.services.access import Principal
from salescope.web.security import SESSION_COOKIE

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="An API token printed by `salescope token create NAME`.",
)


def current_session(request: Request) -> auth.Session | None:
    """The browser's live session, looked up once per request."""
    if not hasattr(request.state, "session"):
        cookie = request.cookies.get(SESSION_COOKIE)
        request.state.session = auth.session_for(request.app.state.workspace, cookie) if cookie else None
    session: auth.Session | None = request.state.session
    return session


def page_principal(request: Request) -> Principal:
    session = current_session(request)
    if session is None:
        raise AuthenticationError("Log in to see this page.")
    return session.principal


def resolve_api_principal(request: Request) -> Principal:
    """A bearer token if one is sent (and then only it counts), else the browser's session cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("Send the API token as 'Authorization: Bearer TOKEN'.")
        principal = auth.token_principal(request.app.state.workspace, token.strip())
        if principal is None:
            raise AuthenticationError("The API token is invalid, expired or revoked.")
        return principal
    session = current_session(request)
    if session is None:
        raise AuthenticationError("Authentication required: send 'Authorization: Bearer TOKEN' or log in.")
    return session.principal


def api_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """``credentials`` is declared so OpenAPI shows the bearer scheme; the header is read by the resolver."""
    return resolve_api_principal(request)


PagePrincipal = Annotated[Principal, Depends(page_principal)]
ApiPrincipal = Annotated[Principal, Depends(api_principal)]
