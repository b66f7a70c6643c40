"""Page rendering: Jinja2 templates with autoescaping, the locale switch and number filters.

The locale is ``?lang=`` when given (and then remembered in a cookie), else the
cookie, else the workspace default (zh-CN), so a shared link never changes
someone's language unless it asks to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from salescope.errors import InputError
from salescope.i18n import (
    Translator,
    format_compact,
    format_money,
    format_number,
    format_percent,
    normalise_locale,
)
from salescope.web.auth import current_session
from salescope.web.security import set_cookie

LANG_COOKIE = "salescope_lang"
HERE = Path(__file__).parent

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


def _known(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_locale(value)
    except InputError:
        return None


def locale_of(request: Request) -> str:
    """``?lang=`` if it names a language we ship, else the cookie's, else the workspace default."""
    chosen = _known(request.query_params.get("lang")) or _known(request.cookies.get(LANG_COOKIE))
    return chosen or normalise_locale(request.app.state.workspace.settings.locale)


def render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    locale = locale_of(request)
    session = current_session(request)

    def money(value: Any) -> str:
        return "—" if value is None else format_money(value, locale)

    def compact(value: Any, *, is_money: bool = False) -> str:
        return "—" if value is None else format_compact(value, locale, money=is_money)

    def number(value: Any) -> str:
        return "—" if value is None else format_number(value, locale)

    def percent(value: Any) -> str:
        return format_percent(value, locale)

    def lang_url(target: str) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        return request.url.path + "?" + urlencode([*params, ("lang", target)])

    full = {
        "request": request,
        "t": Translator(locale),
        "locale": locale,
        "lang_url": lang_url,
        "principal": session.principal if session else None,
        "csrf_token": session.csrf_token if session else "",
        "money": money,
        "compact": compact,
        "number": number,
        "percent": percent,
        "path": request.url.path,
        **context,
    }
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    if _known(request.query_params.get("lang")):
        set_cookie(request, response, LANG_COOKIE, locale, max_age=365 * 24 * 3600)
    return response
