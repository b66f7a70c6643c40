"""The auth service on a real app database: users, password policy, admin bootstrap, tokens, audit."""

from __future__ import annotations

import hashlib

import pytest
import web_support as support
from argon2 import Type
from hypothesis import given
from hypothesis import strategies as st

from salescope.errors import AuthenticationError, InputError, NotFoundError
from salescope.services import auth
from salescope.services.workspace import Workspace

pytestmark = [support.IBIS_DEPRECATION]


@pytest.fixture(autouse=True)
def _cheap() -> object:
    with support.cheap_hashing():
        yield


def test_production_hasher_is_argon2id_with_rfc9106_parameters() -> None:
    production = support.PRODUCTION_HASHER
    assert production.type is Type.ID
    assert production.time_cost >= 3
    assert production.memory_cost >= 64 * 1024  # KiB
    assert support.CHEAP_HASHER.type is Type.ID  # tests still hash with argon2id, only cheaper


def test_add_user_stores_an_argon2id_hash_and_audits(workspace: Workspace) -> None:
    user = auth.add_user(workspace, "zhang", "analyst", "Zhang-secret-1", actor="ada")
    assert user == {
        "id": user["id"],
        "username": "zhang",
        "role": "analyst",
        "salesperson": None,
        "created_at": user["created_at"],
        "active": True,
    }
    row = workspace.appdb.one("SELECT password_hash FROM users WHERE username = 'zhang'")
    assert row is not None
    assert row["password_hash"].startswith("$argon2id$")
    assert "Zhang-secret-1" not in row["password_hash"]
    entry = workspace.appdb.one("SELECT * FROM audit_log WHERE action = 'user.add'")
    assert entry is not None
    assert (entry["username"], entry["detail"]) == ("ada", "user=zhang role=analyst")


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("Short1!", "at least 10 characters"),
        ("alllowercaseletters", "only one kind of character"),
        ("12345678901234", "only one kind of character"),
    ],
)
def test_password_policy_refusals(workspace: Workspace, password: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        auth.add_user(workspace, "li", "viewer", password)


@pytest.mark.parametrize("password", ["ZHANG-LONG-PASS", "longpassword7", "密码很长而且安全的abc"])
def test_password_policy_accepts_two_classes(password: str) -> None:
    auth.check_password_policy(password)


def test_password_may_not_be_the_user_name(workspace: Workspace) -> None:
    with pytest.raises(InputError, match="user name"):
        auth.add_user(workspace, "Wang-Fang-01", "viewer", "wang-fang-01")


@given(st.text(min_size=10, max_size=40))
def test_policy_accepts_exactly_the_passwords_with_two_character_classes(password: str) -> None:
    classes = {
        "lower"
        if c.isascii() and c.islower()
        else "upper"
        if c.isascii() and c.isupper()
        else "digit"
        if c.isascii() and c.isdigit()
        else "other"
        for c in password
    }
    if len(classes) >= 2:
        auth.check_password_policy(password)
    else:
        with pytest.raises(InputError):
            auth.check_password_policy(password)


def test_user_input_errors_say_what_was_expected(workspace: Workspace) -> None:
    with pytest.raises(InputError, match="expected one of admin, analyst, sales, viewer"):
        auth.add_user(workspace, "x1", "boss", "Good-password-1")
    with pytest.raises(InputError, match="--salesperson NAME"):
        auth.add_user(workspace, "x2", "sales", "Good-password-1")
    with pytest.raises(InputError, match="without spaces"):
        auth.add_user(workspace, "two words", "viewer", "Good-password-1")
    auth.add_user(workspace, "x3", "viewer", "Good-password-1")
    with pytest.raises(InputError, match="already exists"):
        auth.add_user(workspace, "x3", "viewer", "Good-password-1")
    with pytest.raises(NotFoundError, match="salescope user add"):
        auth.set_password(workspace, "ghost", "Good-password-1")


def test_ensure_admin_creates_then_resets_with_a_policy_password(workspace: Workspace) -> None:
    first = auth.ensure_admin(workspace)
    auth.check_password_policy(first)
    assert auth.authenticate(workspace, "admin", first).role == "admin"
    second = auth.ensure_admin(workspace)
    assert second != first
    with pytest.raises(AuthenticationError):
        auth.authenticate(workspace, "admin", first)
    assert auth.authenticate(workspace, "admin", second).role == "admin"
    assert [u["username"] for u in auth.list_users(workspace)] == ["admin"]


def test_ensure_admin_unlocks_and_promotes_an_existing_account(workspace: Workspace) -> None:
    auth.add_user(workspace, "admin", "viewer", "Viewer-admin-1")
    workspace.appdb.execute("UPDATE users SET locked_until = '2999-01-01T00:00:00Z', active = 0")
    password = auth.ensure_admin(workspace)
    principal = auth.authenticate(workspace, "admin", password)
    assert principal.role == "admin"


def test_tokens_are_hashed_expire_and_are_listed_without_secrets(workspace: Workspace) -> None:
    auth.add_user(workspace, "bot", "viewer", "Robot-pass-42")
    forever = auth.create_token(workspace, "bot", name="etl", expires_days=None, actor="ada")
    monthly = auth.create_token(workspace, "bot", name="bi", expires_days=30)
    assert forever.startswith(auth.TOKEN_PREFIX) and len(forever) > 40
    listed = auth.list_tokens(workspace, "bot")
    assert [t["name"] for t in listed] == ["etl", "bi"]
    assert listed[0]["expires_at"] is None
    assert listed[1]["expires_at"] > listed[1]["created_at"]
    text = repr(listed)
    assert forever not in text and monthly not in text
    assert hashlib.sha256(forever.encode()).hexdigest() not in text
    principal = auth.token_principal(workspace, forever)
    assert principal is not None and principal.username == "bot"
    with pytest.raises(InputError, match="≥ 1"):
        auth.create_token(workspace, "bot", expires_days=0)
    with pytest.raises(NotFoundError):
        auth.create_token(workspace, "ghost")
    with pytest.raises(NotFoundError):
        auth.revoke_token(workspace, 9999)


def test_disabled_user_loses_tokens_and_sessions(workspace: Workspace) -> None:
    auth.add_user(workspace, "leaver", "analyst", "Leaver-pass-1")
    token = auth.create_token(workspace, "leaver")
    principal = auth.authenticate(workspace, "leaver", "Leaver-pass-1")
    cookie, _ = auth.start_session(workspace, principal)
    workspace.appdb.execute("UPDATE users SET active = 0 WHERE username = 'leaver'")
    assert auth.token_principal(workspace, token) is None
    assert auth.session_for(workspace, cookie) is None
    with pytest.raises(AuthenticationError):
        auth.authenticate(workspace, "leaver", "Leaver-pass-1")


def test_signed_values_detect_tampering(workspace: Workspace) -> None:
    key = auth.signing_key(workspace)
    assert auth.signing_key(workspace) == key  # stored once per workspace
    signed = auth.sign(key, "nonce-123")
    assert auth.unsign(key, signed) == "nonce-123"
    assert auth.unsign(key, "nonce-124" + signed[len("nonce-123") :]) is None
    assert auth.unsign(b"another key", signed) is None
    assert auth.unsign(key, "no-signature") is None


def test_audit_is_newest_first_and_paginated(workspace: Workspace) -> None:
    for i in range(5):
        auth.audit(workspace, "export", username="ada", detail=f"file {i}", address="10.0.0.1")
    auth.audit(workspace, "import", username="ada", detail="orders.csv", success=False)
    rows, total = auth.list_audit(workspace, limit=2, offset=1, action="export")
    assert total == 5
    assert [r["detail"] for r in rows] == ["file 3", "file 2"]
    assert rows[0]["address"] == "10.0.0.1" and rows[0]["success"] is True
    everything, n = auth.list_audit(workspace)
    assert n == 6 and everything[0]["action"] == "import" and everything[0]["success"] is False
