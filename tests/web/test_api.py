"""The REST API over real HTTP: bearer tokens, the pinned error shape, OpenAPI and pagination."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import web_support as support
from web_support import Site

from salescope.engine.warehouse import QueryError
from salescope.errors import InputError
from salescope.services import auth
from salescope.web.app import create_app

pytestmark = [support.IBIS_DEPRECATION]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error_shape(r: httpx.Response, status: int) -> dict[str, Any]:
    """The shape pinned by DESIGN.md §5: exactly these four keys, one sentence, no traceback."""
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"ok", "status", "error", "errors"}
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)
    assert "Traceback" not in r.text
    return body


@pytest.mark.parametrize(
    "path",
    ["/api/v1/me", "/api/v1/overview", "/api/v1/customers", "/api/v1/customers/C001", "/api/v1/users", "/api/v1/nope"],
)
def test_every_api_path_without_credentials_is_401_in_the_pinned_shape(site: Site, path: str) -> None:
    r = support.get(site.url + path)
    assert_error_shape(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"


def test_wrong_method_or_bad_parameters_without_credentials_are_also_401(site: Site) -> None:
    assert_error_shape(support.delete(site.url + "/api/v1/customers"), 401)
    assert_error_shape(support.get(site.url + "/api/v1/customers?limit=0"), 401)


@pytest.mark.parametrize(
    "header",
    ["Bearer ss_not-a-real-token", "Bearer not-even-ours", "Basic YWRhOnNlY3JldA==", "Token abc", "bearer"],
)
def test_bad_authorization_headers_are_401(site: Site, header: str) -> None:
    r = support.get(site.url + "/api/v1/me", headers={"Authorization": header})
    assert_error_shape(r, 401)


def test_bearer_token_identifies_the_user(site: Site) -> None:
    for role, (username, _, salesperson) in support.USERS.items():
        r = support.get(site.url + "/api/v1/me", headers=bearer(site.tokens[role]))
        assert r.status_code == 200
        assert r.json() == {"username": username, "role": role, "salesperson": salesperson}


def test_tokens_are_stored_only_as_sha256(site: Site) -> None:
    stored = {r["token_hash"] for r in site.ws.appdb.all("SELECT token_hash FROM api_tokens")}
    for token in site.tokens.values():
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored


@pytest.fixture
def own_token(site: Site) -> Iterator[tuple[int, str]]:
    username = support.USERS["viewer"][0]
    token = auth.create_token(site.ws, username, name="short-lived", expires_days=1, actor="test")
    token_id = site.ws.appdb.one("SELECT max(id) AS id FROM api_tokens")["id"]  # type: ignore[index]
    yield token_id, token


def test_expired_token_is_401(site: Site, own_token: tuple[int, str]) -> None:
    token_id, token = own_token
    assert support.get(site.url + "/api/v1/me", headers=bearer(token)).status_code == 200
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    site.ws.appdb.execute("UPDATE api_tokens SET expires_at = ? WHERE id = ?", (past, token_id))
    body = assert_error_shape(support.get(site.url + "/api/v1/me", headers=bearer(token)), 401)
    assert "expired" in body["error"]


def test_revoked_token_is_401_and_revocation_is_audited(site: Site, own_token: tuple[int, str]) -> None:
    token_id, token = own_token
    assert support.get(site.url + "/api/v1/overview", headers=bearer(token)).status_code == 200
    auth.revoke_token(site.ws, token_id, actor="ada")
    assert_error_shape(support.get(site.url + "/api/v1/overview", headers=bearer(token)), 401)
    entry = site.ws.appdb.one("SELECT * FROM audit_log WHERE action = 'token.revoke' ORDER BY id DESC LIMIT 1")
    assert entry is not None
    assert (entry["username"], entry["detail"]) == ("ada", f"token={token_id}")


def test_token_records_its_last_use(site: Site, own_token: tuple[int, str]) -> None:
    token_id, token = own_token
    support.get(site.url + "/api/v1/me", headers=bearer(token))
    row = site.ws.appdb.one("SELECT last_used_at FROM api_tokens WHERE id = ?", (token_id,))
    assert row is not None
    assert row["last_used_at"][:10] == datetime.now(UTC).strftime("%Y-%m-%d")


def test_forbidden_is_403_in_the_pinned_shape(site: Site) -> None:
    for role in ("analyst", "sales", "viewer"):
        body = assert_error_shape(support.get(site.url + "/api/v1/users", headers=bearer(site.tokens[role])), 403)
        assert role in body["error"]


def test_not_found_is_404_in_the_pinned_shape(site: Site) -> None:
    headers = bearer(site.tokens["admin"])
    body = assert_error_shape(support.get(site.url + "/api/v1/customers/NO-SUCH", headers=headers), 404)
    assert "NO-SUCH" in body["error"]
    assert_error_shape(support.get(site.url + "/api/v1/no-such-endpoint", headers=headers), 404)


def test_wrong_method_is_405_in_the_pinned_shape(site: Site) -> None:
    r = support.post(site.url + "/api/v1/overview", headers=bearer(site.tokens["admin"]))
    body = assert_error_shape(r, 405)
    assert "POST" in body["error"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"), ("offset=-1", "offset")],
)
def test_invalid_parameters_are_422_in_the_pinned_shape(site: Site, query: str, field: str) -> None:
    r = support.get(f"{site.url}/api/v1/customers?{query}", headers=bearer(site.tokens["admin"]))
    body = assert_error_shape(r, 422)
    assert field in body["error"]
    assert any(field in e for e in body["errors"])


def test_unexpected_errors_are_500_in_the_pinned_shape_without_internals(site: Site) -> None:
    """Routes that fail the way real bugs do: an exception, and a failing query whose SQL must not leak."""
    app = create_app(site.ws)

    def boom() -> None:
        raise RuntimeError("secret internal detail")

    def bad_query() -> None:
        raise QueryError("Query failed: no such table", "SELECT secret_column FROM hidden_table")

    def bad_input() -> None:
        raise InputError("not a date", file="orders.csv", row=7, column="下单日期", value="2024-13-01")

    app.add_api_route("/api/v1/test-boom", boom)
    app.add_api_route("/api/v1/test-query", bad_query)
    app.add_api_route("/api/v1/test-input", bad_input)
    app.add_api_route("/test-boom", boom)
    headers = bearer(site.tokens["admin"])
    with support.running(app) as server:
        for path in ("/api/v1/test-boom", "/api/v1/test-query"):
            r = support.get(server.url + path, headers=headers)
            body = assert_error_shape(r, 500)
            assert body["errors"] == []
            for secret in ("secret", "hidden_table", "RuntimeError"):
                assert secret not in r.text
            assert r.headers["x-content-type-options"] == "nosniff"
        user_error = assert_error_shape(support.get(server.url + "/api/v1/test-input", headers=headers), 400)
        assert user_error["error"] == "orders.csv, row 7, column '下单日期': not a date (value '2024-13-01')"
        with support.logged_in(server.url, "viewer") as c:
            page = c.get("/test-boom")
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        assert "服务器内部错误" in page.text and "Internal error" in page.text
        assert "secret" not in page.text


def test_openapi_document_describes_the_api_and_its_bearer_auth(site: Site) -> None:
    r = support.get(site.url + "/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    assert {"/api/v1/me", "/api/v1/overview", "/api/v1/customers", "/api/v1/customers/{customer_id}"} <= paths
    assert all(p.startswith("/api/v1/") for p in paths), "pages are not part of the API document"
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert doc["paths"]["/api/v1/customers"]["get"]["security"] == [{"bearerAuth": []}]
    params = {p["name"] for p in doc["paths"]["/api/v1/customers"]["get"]["parameters"]}
    assert {"limit", "offset", "segment", "q"} <= params
    error = doc["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"ok", "status", "error", "errors"}


def test_pagination_walks_every_customer_once_in_value_order(site: Site) -> None:
    headers = bearer(site.tokens["analyst"])
    seen: list[dict[str, Any]] = []
    offset = 0
    while True:
        r = support.get(f"{site.url}/api/v1/customers?limit=3&offset={offset}", headers=headers)
        page = r.json()
        assert page["total"] == len(support.customer_ids())
        assert (page["limit"], page["offset"]) == (3, offset)
        seen.extend(page["items"])
        if not page["items"]:
            break
        offset += 3
    assert sorted(c["customer_id"] for c in seen) == support.customer_ids()
    expected_order = sorted(support.scores(), key=lambda s: (-s["monetary"], s["customer_id"]))  # type: ignore[operator]
    assert [c["customer_id"] for c in seen] == [s["customer_id"] for s in expected_order]


def test_customer_items_carry_the_documented_fields(site: Site) -> None:
    r = support.get(site.url + "/api/v1/customers?limit=1", headers=bearer(site.tokens["admin"]))
    item = r.json()["items"][0]
    assert set(item) == {
        "customer_id",
        "name",
        "salesperson",
        "segment",
        "segment_zh",
        "segment_en",
        "recency_days",
        "frequency",
        "monetary",
        "rfm_code",
    }
    expected = next(s for s in support.scores() if s["customer_id"] == item["customer_id"])
    assert item["monetary"] == pytest.approx(float(expected["monetary"]))  # type: ignore[arg-type]
    assert item["rfm_code"] == expected["rfm_code"]
    assert item["salesperson"] == support.owner_of(item["customer_id"])


def test_search_and_segment_filters(site: Site) -> None:
    headers = bearer(site.tokens["admin"])
    r = support.get(site.url + "/api/v1/customers", params={"q": "brightway"}, headers=headers)
    assert [c["customer_id"] for c in r.json()["items"]] == ["C007"]  # case-insensitive name match
    r = support.get(site.url + "/api/v1/customers", params={"q": "华联"}, headers=headers)
    assert [c["customer_id"] for c in r.json()["items"]] == ["C001"]
    r = support.get(site.url + "/api/v1/customers", params={"q": "c00"}, headers=headers)
    assert r.json()["total"] == len(support.customer_ids())  # ids match too
    segment = support.scores()[0]["segment"]
    r = support.get(site.url + "/api/v1/customers", params={"segment": segment}, headers=headers)
    expected = sorted(s["customer_id"] for s in support.scores() if s["segment"] == segment)  # type: ignore[type-var]
    assert sorted(c["customer_id"] for c in r.json()["items"]) == expected
    assert r.json()["total"] == len(expected)


def test_customer_detail_lists_orders_newest_first(site: Site) -> None:
    r = support.get(site.url + "/api/v1/customers/C001", headers=bearer(site.tokens["analyst"]))
    body = r.json()
    lines = [s for s in support.SALES if s[3] == "C001"]
    orders = sorted({s[0] for s in lines}, key=lambda o: max(s[2] for s in lines if s[0] == o), reverse=True)
    assert [o["order_id"] for o in body["orders"]] == orders
    assert body["orders_total"] == len(orders)
    assert body["revenue"] == pytest.approx(float(sum(s[5] for s in lines)))
    assert body["profile"]["city"] == "上海"
    first = next(o for o in body["orders"] if o["order_id"] == "SO-1001")
    assert first["lines"] == 2


def test_concurrent_requests_each_get_their_own_cursor(site: Site) -> None:
    """Requests run on many threads over one DuckDB connection; answers stay right when they overlap."""
    from concurrent.futures import ThreadPoolExecutor

    calls = [(role, path) for role in ("admin", "sales") for path in ("/api/v1/overview", "/api/v1/customers")] * 6
    expected = {
        (role, path): support.get(site.url + path, headers=bearer(site.tokens[role])).json()
        for role, path in set(calls)
    }
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda c: support.get(site.url + c[1], headers=bearer(site.tokens[c[0]])), calls))
    assert [a.status_code for a in answers] == [200] * len(calls)
    assert [a.json() for a in answers] == [expected[c] for c in calls]
