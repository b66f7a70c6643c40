"""Logging in and out over real HTTP: cookies, CSRF, lockout, rate limiting and the audit trail."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import web_support as support
from web_support import Site

from salescope.services import auth
from salescope.services.workspace import Workspace
from salescope.settings import Settings, WebSettings
from salescope.web.app import create_app
from salescope.web.security import LOGIN_COOKIE, SESSION_COOKIE

pytestmark = [support.IBIS_DEPRECATION]

ALERT = re.compile(r'<p class="alert" role="alert">(.*?)</p>')


def _audit(ws: Workspace, action: str) -> list[dict[str, object]]:
    return ws.appdb.all("SELECT * FROM audit_log WHERE action = ? ORDER BY id", (action,))


def test_anonymous_page_visit_redirects_to_login_with_next(site: Site) -> None:
    r = support.get(site.url + "/customers?segment=important_value")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fcustomers%3Fsegment%3Dimportant_value"


def test_login_sets_hardened_session_cookie_and_redirects_to_next(site: Site) -> None:
    username, password, _ = support.USERS["viewer"]
    with support.client(site.url) as c:
        r = support.login(c, username, password, next_url="/customers")
        assert r.status_code == 303
        assert r.headers["location"] == "/customers"
        cookies = r.headers.get_list("set-cookie")
        session = next(h for h in cookies if h.startswith(SESSION_COOKIE + "="))
        flags = {part.strip().lower() for part in session.split(";")}
        assert {"httponly", "samesite=lax", "path=/"} <= flags
        assert "secure" not in flags  # plain http on 127.0.0.1 and secure_cookies is off
        # The pre-login cookie has done its job and is cleared.
        assert any(h.startswith(LOGIN_COOKIE + '=""') or h.startswith(LOGIN_COOKIE + "=;") for h in cookies)
        token = c.cookies[SESSION_COOKIE]
        assert c.get("/customers").status_code == 200
    # Only the SHA-256 of the cookie is stored.
    rows = site.ws.appdb.all("SELECT token_hash FROM sessions")
    hashes = {r["token_hash"] for r in rows}
    assert hashlib.sha256(token.encode()).hexdigest() in hashes
    assert token not in hashes


def test_each_login_gets_a_new_session(site: Site) -> None:
    username, password, _ = support.USERS["viewer"]
    with support.client(site.url) as a, support.client(site.url) as b:
        support.login(a, username, password)
        support.login(b, username, password)
        assert a.cookies[SESSION_COOKIE] != b.cookies[SESSION_COOKIE]


def test_login_refuses_open_redirects(site: Site) -> None:
    username, password, _ = support.USERS["viewer"]
    with support.client(site.url) as c:
        for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
            c.cookies.clear()
            r = support.login(c, username, password, next_url=target)
            assert r.status_code == 303
            assert r.headers["location"] == "/"


def test_wrong_password_is_refused_and_audited_with_address(site: Site) -> None:
    username, _, _ = support.USERS["analyst"]
    with support.client(site.url) as c:
        r = support.login(c, username, "Not-the-password-1")
        assert r.status_code == 401
        assert "用户名或密码错误" in r.text
        assert SESSION_COOKIE not in c.cookies
        assert c.get("/").status_code == 303
    failures = [a for a in _audit(site.ws, "login") if a["username"] == username and not a["success"]]
    assert failures[-1]["address"] == "127.0.0.1"
    assert failures[-1]["detail"] == "wrong password"
    auth.authenticate(site.ws, username, support.USERS["analyst"][1])  # resets the failure count for other tests


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(site: Site) -> None:
    with support.client(site.url) as c:
        unknown = support.login(c, "nobody-here", "Whatever-123")
        wrong = support.login(c, support.USERS["viewer"][0], "Whatever-123")
    assert unknown.status_code == wrong.status_code == 401
    assert ALERT.findall(unknown.text) == ALERT.findall(wrong.text) == ["用户名或密码错误。"]
    auth.authenticate(site.ws, *support.USERS["viewer"][:2])


def test_successful_login_is_audited(site: Site) -> None:
    username, password, _ = support.USERS["viewer"]
    with support.client(site.url) as c:
        support.login(c, username, password)
    last = _audit(site.ws, "login")[-1]
    assert (last["username"], last["success"], last["address"]) == (username, 1, "127.0.0.1")


def test_login_without_or_with_a_forged_csrf_token_is_refused(site: Site) -> None:
    username, password, _ = support.USERS["viewer"]
    with support.client(site.url) as c:
        page = c.get("/login")
        token = support.csrf_of(page.text)
        no_token = c.post("/login", data={"username": username, "password": password})
        wrong = c.post("/login", data={"username": username, "password": password, "csrf_token": token + "x"})
        assert no_token.status_code == wrong.status_code == 403
        assert SESSION_COOKIE not in c.cookies
    # A cookie and field the attacker made up themselves carry no valid signature.
    forged = "attacker-nonce.0000"
    with support.client(site.url, cookies={LOGIN_COOKIE: forged}) as c:
        r = c.post("/login", data={"username": username, "password": password, "csrf_token": forged})
        assert r.status_code == 403
        assert SESSION_COOKIE not in c.cookies


def test_logout_needs_the_csrf_token_and_ends_the_session(site: Site) -> None:
    with support.logged_in(site.url, "viewer") as c:
        page = c.get("/")
        token = support.csrf_of(page.text)
        refused = c.post("/logout")
        assert refused.status_code == 403
        assert c.get("/").status_code == 200  # still logged in
        cookie = c.cookies[SESSION_COOKIE]
        r = c.post("/logout", data={"csrf_token": token})
        assert r.status_code == 303
        assert r.headers["location"] == "/login"
    # The old cookie no longer opens anything, even if a copy survived in the browser.
    with support.client(site.url, cookies={SESSION_COOKIE: cookie}) as c:
        assert c.get("/").status_code == 303
    assert _audit(site.ws, "logout")[-1]["username"] == support.USERS["viewer"][0]


def test_expired_session_sends_the_browser_back_to_login(site: Site) -> None:
    with support.logged_in(site.url, "viewer") as c:
        digest = hashlib.sha256(c.cookies[SESSION_COOKIE].encode()).hexdigest()
        past = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        site.ws.appdb.execute("UPDATE sessions SET expires_at = ? WHERE token_hash = ?", (past, digest))
        r = c.get("/customers")
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login")
        assert c.get("/api/v1/me").status_code == 401


def test_csrf_token_from_header_is_accepted(site: Site) -> None:
    with support.logged_in(site.url, "viewer") as c:
        token = support.csrf_of(c.get("/").text)
        r = c.post("/logout", headers={"X-CSRF-Token": token})
        assert r.status_code == 303
        assert c.get("/").status_code == 303


def test_account_locks_after_consecutive_failures_and_unlocks_after_the_lockout(fresh_site: Site) -> None:
    ws = fresh_site.ws
    limit = ws.settings.web.login_max_failures
    auth.add_user(ws, "lock-me", "viewer", "Lock-me-please-1")
    with support.client(fresh_site.url) as c:
        for _ in range(limit):
            assert support.login(c, "lock-me", "Wrong-password-1").status_code == 401
        # Now even the right password is refused until the lockout ends.
        locked = support.login(c, "lock-me", "Lock-me-please-1")
        assert locked.status_code == 429
        assert SESSION_COOKIE not in c.cookies
        row = ws.appdb.one("SELECT locked_until FROM users WHERE username = 'lock-me'")
        assert row is not None
        until = datetime.strptime(row["locked_until"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        expected = datetime.now(UTC) + timedelta(minutes=ws.settings.web.lockout_minutes)
        assert abs((until - expected).total_seconds()) < 120
        # Let the lockout run out (rewrite the clock's verdict rather than wait fifteen minutes).
        past = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ws.appdb.execute("UPDATE users SET locked_until = ? WHERE username = 'lock-me'", (past,))
        assert support.login(c, "lock-me", "Lock-me-please-1").status_code == 303
    reasons = [a["detail"] for a in _audit(ws, "login") if a["username"] == "lock-me"]
    assert reasons == ["wrong password"] * limit + ["account locked", ""]


def test_success_resets_the_failure_count(fresh_site: Site) -> None:
    ws = fresh_site.ws
    limit = ws.settings.web.login_max_failures
    auth.add_user(ws, "forgetful", "viewer", "Forgetful-pass-1")
    with support.client(fresh_site.url) as c:
        for _ in range(limit - 1):
            support.login(c, "forgetful", "Wrong-password-1")
        assert support.login(c, "forgetful", "Forgetful-pass-1").status_code == 303
        c.cookies.clear()
        for _ in range(limit - 1):
            support.login(c, "forgetful", "Wrong-password-1")
        assert support.login(c, "forgetful", "Forgetful-pass-1").status_code == 303


@pytest.fixture
def strict_site(tmp_path: Path) -> Iterator[Site]:
    """Two failures lock an account, so the per-address limit (4x) is reached quickly; cookies are Secure."""
    settings = Settings(workspace=tmp_path / "ws", web=WebSettings(login_max_failures=2, secure_cookies=True))
    ws = Workspace(tmp_path / "ws", settings=settings)
    support.seed(ws)
    tokens = support.add_users(ws)
    app = create_app(ws)
    with support.running(app) as server:
        yield Site(server.url, ws, app, tokens)
    ws.close()


def test_one_address_is_rate_limited_across_accounts(strict_site: Site) -> None:
    ws = strict_site.ws
    budget = ws.settings.web.login_max_failures * auth.ADDRESS_FAILURE_FACTOR
    username, password, _ = support.USERS["viewer"]
    form = support.get(strict_site.url + "/login")
    # Secure cookies are not sent back over plain http, so send the form's cookie by hand.
    token = support.csrf_of(form.text)
    cookie = {"Cookie": f"{LOGIN_COOKIE}={token}"}
    for i in range(budget):
        data = {"username": f"guess-{i}", "password": "Guess-pass-1", "csrf_token": token}
        assert support.post(strict_site.url + "/login", data=data, headers=cookie).status_code == 401
    data = {"username": username, "password": password, "csrf_token": token}
    r = support.post(strict_site.url + "/login", data=data, headers=cookie)
    assert r.status_code == 429
    assert "127.0.0.1" in r.text
    assert _audit(ws, "login")[-1]["detail"] == "rate limited"


def test_cookies_are_secure_when_configured(strict_site: Site) -> None:
    r = support.get(strict_site.url + "/login")
    login_cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(LOGIN_COOKIE))
    assert "secure" in {p.strip().lower() for p in login_cookie.split(";")}


def test_password_change_ends_open_sessions(fresh_site: Site) -> None:
    with support.logged_in(fresh_site.url, "analyst") as c:
        assert c.get("/").status_code == 200
        auth.set_password(fresh_site.ws, support.USERS["analyst"][0], "A-brand-new-pass-7", actor="test")
        assert c.get("/").status_code == 303
    changes = _audit(fresh_site.ws, "user.password")
    assert changes[-1]["username"] == "test"
    assert changes[-1]["detail"] == f"user={support.USERS['analyst'][0]}"


def test_login_page_when_already_logged_in_goes_to_next(site: Site) -> None:
    with support.logged_in(site.url, "viewer") as c:
        r = c.get("/login?next=/customers")
        assert r.status_code == 303
        assert r.headers["location"] == "/customers"


def test_behind_an_https_proxy_cookies_are_secure_and_hsts_is_sent(site: Site) -> None:
    """uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (a local reverse proxy), as in a real deployment."""
    r = support.get(site.url + "/login", headers={"X-Forwarded-Proto": "https"})
    login_cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(LOGIN_COOKIE))
    assert "secure" in {p.strip().lower() for p in login_cookie.split(";")}
    assert r.headers["strict-transport-security"] == "max-age=31536000"
    plain = support.get(site.url + "/login")
    assert "strict-transport-security" not in plain.headers
