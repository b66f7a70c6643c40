"""Users, passwords, sessions, API tokens, login lockout and the audit log.

Secrets never rest in plaintext: passwords are argon2id hashes, session cookies
and API tokens are random strings stored only as SHA-256 digests (they are long
and random, so a fast hash is enough and lookups stay indexed). Every change to a
user or token, and every login attempt, is written to the audit log with the
address it came from.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from salescope.errors import AuthenticationError, InputError, NotFoundError, RateLimitedError
from salescope.services.access import Principal

if TYPE_CHECKING:
    from salescope.services.workspace import Workspace

ROLES = ("admin", "analyst", "sales", "viewer")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "ss_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for, not a secret
# One address may fail this many times more than one account before it is slowed down,
# so an office behind one NAT address is not locked out by a single forgetful colleague.
ADDRESS_FAILURE_FACTOR = 4

# argon2id with the RFC 9106 low-memory parameters (3 passes over 64 MiB). A module attribute so a test
# suite can swap in cheaper parameters; stored hashes carry their own parameters, so they keep verifying.
PASSWORD_HASHER = PasswordHasher()
_dummy: dict[int, str] = {}


def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong user name costs as much as a wrong password."""
    key = id(PASSWORD_HASHER)
    if key not in _dummy:
        _dummy[key] = PASSWORD_HASHER.hash(secrets.token_urlsafe(16))
    return _dummy[key]


_CHARACTER_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    """UTC ISO timestamps with a fixed width, so SQL string comparison is time comparison."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# -- audit ------------------------------------------------------------------------------------------------------------
def audit(
    ws: Workspace,
    action: str,
    *,
    username: str | None,
    detail: str = "",
    address: str | None = None,
    success: bool = True,
) -> None:
    """Record who did what, when and from where; other services call this for imports, exports, undos, merges."""
    ws.appdb.execute(
        "INSERT INTO audit_log (at, username, action, detail, address, success) VALUES (?, ?, ?, ?, ?, ?)",
        (_stamp(_now()), username, action, detail, address, int(success)),
    )


def list_audit(
    ws: Workspace, *, limit: int = 50, offset: int = 0, action: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Newest first, with the total for pagination."""
    where, params = ("WHERE action = ?", [action]) if action else ("", [])
    total = ws.appdb.one(f"SELECT count(*) AS n FROM audit_log {where}", params)
    rows = ws.appdb.all(
        f"SELECT id, at, username, action, detail, address, success FROM audit_log {where} "
        "ORDER BY id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    for r in rows:
        r["success"] = bool(r["success"])
    return rows, int(total["n"]) if total else 0


# -- passwords and users ----------------------------------------------------------------------------------------------
def check_password_policy(password: str, *, username: str | None = None) -> None:
    """At least ten characters drawn from at least two classes (lower, upper, digits, other), not the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            f"the password has {len(password)} characters", expected=f"at least {MIN_PASSWORD_LENGTH} characters"
        )
    classes = {next((i for i, cls in enumerate(_CHARACTER_CLASSES) if ch in cls), 3) for ch in password}
    if len(classes) < 2:
        raise InputError(
            "the password uses only one kind of character",
            expected="a mix of at least two of: lower-case letters, upper-case letters, digits, other characters",
        )
    if username and password.casefold() == username.casefold():
        raise InputError("the password is the user name", expected="a password different from the user name")


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or any(ch.isspace() or not ch.isprintable() for ch in name):
        raise InputError("invalid user name", value=username, expected="1 to 64 printable characters without spaces")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError("unknown role", value=role, expected="one of " + ", ".join(ROLES))
    return role


def _user_row(ws: Workspace, username: str) -> dict[str, Any]:
    row = ws.appdb.one("SELECT * FROM users WHERE username = ?", (username,))
    if row is None:
        raise NotFoundError(f"There is no user {username!r}; add one with `salescope user add`.")
    return row


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "role": row["role"],
        "salesperson": row["salesperson"],
        "created_at": row["created_at"],
        "active": bool(row["active"]),
    }


def add_user(
    ws: Workspace,
    username: str,
    role: str,
    password: str,
    *,
    salesperson: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Create a user; a sales user must name the salesperson their rows carry, or they would see nothing."""
    name = _check_username(username)
    _check_role(role)
    person = salesperson.strip() if salesperson and salesperson.strip() else None
    if role == "sales" and person is None:
        raise InputError(
            f"user {name!r} has the sales role but no salesperson",
            expected="--salesperson NAME as it appears in the sales data",
        )
    check_password_policy(password, username=name)
    with ws.appdb.transaction() as con:
        if con.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone() is not None:
            raise InputError(f"user {name!r} already exists", expected="a new user name")
        con.execute(
            "INSERT INTO users (username, password_hash, role, salesperson, created_at) VALUES (?, ?, ?, ?, ?)",
            (name, PASSWORD_HASHER.hash(password), role, person, _stamp(_now())),
        )
    detail = f"user={name} role={role}" + (f" salesperson={person}" if person else "")
    audit(ws, "user.add", username=actor, detail=detail)
    return _public(_user_row(ws, name))


def list_users(ws: Workspace) -> list[dict[str, Any]]:
    return [_public(r) for r in ws.appdb.all("SELECT * FROM users ORDER BY username")]


def _store_password(ws: Workspace, user_id: int, password: str) -> None:
    """New hash, lock cleared, and every open session ended: a password change logs out old browsers."""
    with ws.appdb.transaction() as con:
        con.execute(
            "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
            (PASSWORD_HASHER.hash(password), user_id),
        )
        con.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))


def set_password(ws: Workspace, username: str, password: str, *, actor: str | None = None) -> None:
    row = _user_row(ws, username)
    check_password_policy(password, username=username)
    _store_password(ws, int(row["id"]), password)
    audit(ws, "user.password", username=actor, detail=f"user={username}")


def generate_password() -> str:
    """A random password that passes the policy (20 URL-safe characters, about 120 bits)."""
    while True:
        candidate = secrets.token_urlsafe(15)
        try:
            check_password_policy(candidate)
        except InputError:
            continue
        return candidate


def ensure_admin(ws: Workspace, username: str = "admin") -> str:
    """Give the admin a fresh random password (creating the account if absent) and return it once."""
    password = generate_password()
    row = ws.appdb.one("SELECT id FROM users WHERE username = ?", (username,))
    if row is None:
        add_user(ws, username, "admin", password, actor="system")
        return password
    ws.appdb.execute("UPDATE users SET role = 'admin', active = 1 WHERE id = ?", (row["id"],))
    _store_password(ws, int(row["id"]), password)
    audit(ws, "user.password", username="system", detail=f"user={username} (admin password reset)")
    return password


# -- login ------------------------------------------------------------------------------------------------------------
def _recent_address_failures(ws: Workspace, address: str, since: datetime) -> int:
    row = ws.appdb.one(
        "SELECT count(*) AS n FROM audit_log WHERE address = ? AND action = 'login' AND success = 0 AND at >= ?",
        (address, _stamp(since)),
    )
    return int(row["n"]) if row else 0


def authenticate(ws: Workspace, username: str, password: str, *, address: str | None = None) -> Principal:
    """Check a password login, enforcing the per-account lockout and the per-address rate limit.

    A wrong user name and a wrong password give the same answer in the same time,
    so the form cannot be used to discover which accounts exist.
    """
    web = ws.settings.web
    now = _now()
    window = timedelta(minutes=web.lockout_minutes)
    name = username.strip()

    def fail(reason: str) -> None:
        audit(ws, "login", username=name or None, detail=reason, address=address, success=False)

    if (
        address
        and _recent_address_failures(ws, address, now - window) >= web.login_max_failures * ADDRESS_FAILURE_FACTOR
    ):
        fail("rate limited")
        raise RateLimitedError(f"Too many failed logins from {address}; try again in {web.lockout_minutes} minutes.")
    row = ws.appdb.one("SELECT * FROM users WHERE username = ?", (name,)) if name else None
    if row is None or not row["active"]:
        _verify(_dummy_hash(), password)
        fail("unknown or inactive user")
        raise AuthenticationError("Wrong user name or password.")
    if row["locked_until"] and row["locked_until"] > _stamp(now):
        fail("account locked")
        raise RateLimitedError(
            f"The account {name!r} is locked after {web.login_max_failures} failed logins; "
            f"try again after {row['locked_until'].replace('T', ' ')}."
        )
    if not _verify(row["password_hash"], password):
        _count_failure(ws, int(row["id"]), now + window, web.login_max_failures)
        fail("wrong password")
        raise AuthenticationError("Wrong user name or password.")
    updates = "failed_logins = 0, locked_until = NULL"
    params: list[Any] = []
    if PASSWORD_HASHER.check_needs_rehash(row["password_hash"]):
        updates += ", password_hash = ?"
        params.append(PASSWORD_HASHER.hash(password))
    ws.appdb.execute(f"UPDATE users SET {updates} WHERE id = ?", (*params, row["id"]))
    audit(ws, "login", username=name, address=address)
    return Principal(username=row["username"], role=row["role"], salesperson=row["salesperson"])


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(PASSWORD_HASHER.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _count_failure(ws: Workspace, user_id: int, lock_until: datetime, max_failures: int) -> None:
    """Consecutive failures lock the account; the count restarts once it is locked."""
    with ws.appdb.transaction() as con:
        con.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?", (user_id,))
        con.execute(
            "UPDATE users SET locked_until = ?, failed_logins = 0 WHERE id = ? AND failed_logins >= ?",
            (_stamp(lock_until), user_id, max_failures),
        )


# -- sessions ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf_token: str
    expires_at: str


def start_session(ws: Workspace, principal: Principal, *, address: str | None = None) -> tuple[str, Session]:
    """A new session for a logged-in user; returns the cookie value (shown once) and the session."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = _now()
    expires = _stamp(now + timedelta(hours=ws.settings.web.session_hours))
    row = _user_row(ws, principal.username)
    with ws.appdb.transaction() as con:
        con.execute("DELETE FROM sessions WHERE expires_at <= ?", (_stamp(now),))
        con.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, address) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_digest(token), row["id"], csrf, _stamp(now), expires, address),
        )
    return token, Session(principal, csrf, expires)


def session_for(ws: Workspace, token: str) -> Session | None:
    """The live session behind a cookie value, or ``None`` when it is unknown, expired or its user is disabled."""
    row = ws.appdb.one(
        "SELECT s.csrf_token, s.expires_at, u.username, u.role, u.salesperson, u.active "
        "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        (_digest(token),),
    )
    if row is None or not row["active"] or row["expires_at"] <= _stamp(_now()):
        return None
    return Session(Principal(row["username"], row["role"], row["salesperson"]), row["csrf_token"], row["expires_at"])


def end_session(ws: Workspace, token: str, *, address: str | None = None) -> None:
    session = session_for(ws, token)
    ws.appdb.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))
    if session is not None:
        audit(ws, "logout", username=session.principal.username, address=address)


# -- API tokens -------------------------------------------------------------------------------------------------------
def create_token(
    ws: Workspace,
    username: str,
    *,
    name: str = "cli",
    expires_days: int | None = 90,
    actor: str | None = None,
) -> str:
    """A new bearer token for a user; the plaintext is returned once and only its digest is kept."""
    row = _user_row(ws, username)
    if expires_days is not None and expires_days < 1:
        raise InputError("invalid token lifetime", value=expires_days, expected="a whole number of days ≥ 1, or none")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    expires = _stamp(now + timedelta(days=expires_days)) if expires_days is not None else None
    token_id = ws.appdb.execute(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (row["id"], name, _digest(token), _stamp(now), expires),
    )
    audit(ws, "token.create", username=actor, detail=f"token={token_id} user={username} name={name} expires={expires}")
    return token


def token_principal(ws: Workspace, token: str) -> Principal | None:
    """The user a bearer token acts for, or ``None`` when it is unknown, expired, revoked or its user disabled."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = ws.appdb.one(
        "SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, u.username, u.role, u.salesperson, u.active "
        "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        (_digest(token),),
    )
    now = _stamp(_now())
    if row is None or row["revoked_at"] or not row["active"]:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return None
    if (row["last_used_at"] or "")[:16] != now[:16]:  # at most one write a minute per token
        ws.appdb.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now, row["id"]))
    return Principal(row["username"], row["role"], row["salesperson"])


def revoke_token(ws: Workspace, token_id: int, *, actor: str | None = None) -> None:
    row = ws.appdb.one("SELECT id, revoked_at FROM api_tokens WHERE id = ?", (token_id,))
    if row is None:
        raise NotFoundError(f"There is no API token with id {token_id}.")
    if row["revoked_at"] is None:
        ws.appdb.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", (_stamp(_now()), token_id))
        audit(ws, "token.revoke", username=actor, detail=f"token={token_id}")


def list_tokens(ws: Workspace, username: str | None = None) -> list[dict[str, Any]]:
    """Token metadata (never the token): id, user, name, created, expires, last used, revoked."""
    where, params = ("WHERE u.username = ?", (username,)) if username else ("", ())
    return ws.appdb.all(
        "SELECT t.id, u.username, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at "
        f"FROM api_tokens t JOIN users u ON u.id = t.user_id {where} ORDER BY t.id",
        params,
    )


# -- signing ----------------------------------------------------------------------------------------------------------
def signing_key(ws: Workspace) -> bytes:
    """This workspace's secret for signing values handed to browsers (the pre-login CSRF cookie)."""
    row = ws.appdb.one("SELECT value FROM app_secrets WHERE name = 'signing'")
    if row is None:
        ws.appdb.execute(
            "INSERT OR IGNORE INTO app_secrets (name, value, created_at) VALUES ('signing', ?, ?)",
            (secrets.token_hex(32), _stamp(_now())),
        )
        row = ws.appdb.one("SELECT value FROM app_secrets WHERE name = 'signing'")
    if row is None:
        raise RuntimeError("the signing secret could not be stored in the app database")
    return bytes.fromhex(row["value"])


def sign(key: bytes, value: str) -> str:
    return value + "." + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def unsign(key: bytes, signed: str) -> str | None:
    """The value if its signature is ours, else ``None``."""
    value, _, mac = signed.rpartition(".")
    if not value:
        return None
    expected = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return value if hmac.compare_digest(mac, expected) else None
