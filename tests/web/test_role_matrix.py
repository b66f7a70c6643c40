"""Every route as every role: who gets in, and that a sales user never sees another salesperson's rows.

The matrix must name every route the app defines, so a new route cannot ship
without someone deciding who may use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
import web_support as support
from fastapi.routing import APIRoute
from web_support import Site

pytestmark = [support.IBIS_DEPRECATION]

ROLES = tuple(support.USERS)
OWN = "C001"  # 王芳's, in the customer master
OTHERS = ("C005", "C007", "C008")  # 李强's; C008 only through its latest sale
ALL = dict.fromkeys(ROLES, 200)
ADMIN_ONLY = {"admin": 200, "analyst": 403, "sales": 403, "viewer": 403}

# (method, route path) -> {role: status} for the route's own-customer form.
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/"): ALL,
    ("GET", "/customers"): ALL,
    ("GET", "/customers/{customer_id}"): ALL,
    ("GET", "/admin/audit"): ADMIN_ONLY,
    ("GET", "/api/v1/me"): ALL,
    ("GET", "/api/v1/overview"): ALL,
    ("GET", "/api/v1/customers"): ALL,
    ("GET", "/api/v1/customers/{customer_id}"): ALL,
    ("GET", "/api/v1/users"): ADMIN_ONLY,
    ("GET", "/api/v1/audit"): ADMIN_ONLY,
}
# Routes that are about getting in and out; test_auth_flow.py covers them.
AUTH_ROUTES = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/api/v1/openapi.json")}


def _walk(routes: list[object]) -> Iterator[object]:
    """Routes of the app and of included routers (FastAPI may keep an included router as one entry)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(list(included.routes))
        else:
            yield route


def app_routes(site: Site) -> set[tuple[str, str]]:
    found = set()
    for route in _walk(list(site.app.routes)):
        methods = getattr(route, "methods", None)
        path = getattr(route, "path", "")
        if not methods or path.startswith("/static"):
            continue
        found |= {(m, path) for m in methods if m != "HEAD"}
    return found


def test_matrix_covers_every_route(site: Site) -> None:
    routes = app_routes(site)
    assert routes == set(MATRIX) | AUTH_ROUTES
    assert sum(isinstance(r, APIRoute) for r in _walk(list(site.app.routes))) == len(routes) - 1  # all but openapi


@pytest.fixture(scope="module")
def clients(site: Site) -> Iterator[dict[str, httpx.Client]]:
    """For each role: a browser session (pages) and a bearer-token client (API)."""
    sessions = {}
    api = {}
    for role in ROLES:
        client = support.client(site.url)
        username, password, _ = support.USERS[role]
        assert support.login(client, username, password).status_code == 303
        sessions[role] = client
        api[role] = support.client(site.url, headers={"Authorization": f"Bearer {site.tokens[role]}"})
    yield {**{f"page:{r}": c for r, c in sessions.items()}, **{f"api:{r}": c for r, c in api.items()}}
    for c in [*sessions.values(), *api.values()]:
        c.close()


def _client(clients: dict[str, httpx.Client], path: str, role: str) -> httpx.Client:
    return clients[("api:" if path.startswith("/api/") else "page:") + role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(MATRIX))
def test_route_status_for_role(clients: dict[str, httpx.Client], route: tuple[str, str], role: str) -> None:
    method, path = route
    r = _client(clients, path, role).request(method, path.replace("{customer_id}", OWN))
    assert r.status_code == MATRIX[route][role], f"{method} {path} as {role}"


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_anonymous_gets_nothing(site: Site, route: tuple[str, str]) -> None:
    method, path = route
    r = support.request(method, site.url + path.replace("{customer_id}", OWN))
    if path.startswith("/api/"):
        assert r.status_code == 401
        assert r.json()["ok"] is False
    else:
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("customer_id", OTHERS)
@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_sales_user_cannot_open_another_salespersons_customer(
    clients: dict[str, httpx.Client], customer_id: str, prefix: str
) -> None:
    path = f"{prefix}/customers/{customer_id}"
    r = _client(clients, path, "sales").get(path)
    assert r.status_code in (403, 404)
    for name in (c[1] for c in support.CUSTOMERS if c[0] == customer_id):
        assert name not in r.text
    # The same id opens for an analyst, so the refusal is the rule and not a missing customer.
    assert _client(clients, path, "analyst").get(path).status_code == 200


def test_sales_lists_hold_only_their_customers(clients: dict[str, httpx.Client]) -> None:
    mine = {c for c in support.customer_ids() if support.owner_of(c) == support.WANG}
    body = clients["api:sales"].get("/api/v1/customers?limit=500").json()
    assert {c["customer_id"] for c in body["items"]} == mine
    assert body["total"] == len(mine)
    assert {c["salesperson"] for c in body["items"]} == {support.WANG}
    page = clients["page:sales"].get("/customers").text
    for _, name, person, _ in support.CUSTOMERS:
        assert (name in page) == (person == support.WANG), name
    # Searching for another salesperson's customer by name finds nothing.
    other = clients["api:sales"].get("/api/v1/customers", params={"q": "恒信"}).json()
    assert other == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_fallback_owner_sees_customer_known_only_from_sales(site: Site) -> None:
    username, password, salesperson = support.SALES_LI
    assert support.owner_of("C008") == salesperson
    with support.client(site.url) as c:
        support.login(c, username, password)
        assert c.get("/customers/C008").status_code == 200
        ids = {i["customer_id"] for i in c.get("/api/v1/customers?limit=500").json()["items"]}
    assert ids == {cid for cid in support.customer_ids() if support.owner_of(cid) == salesperson}


def _expected_overview(owner: str | None) -> dict[str, object]:
    """Recomputed from the seed lists: revenue is net, an order counts when its lines sum above zero."""
    lines = [s for s in support.SALES if owner is None or (s[3] is not None and support.owner_of(s[3]) == owner)]
    net: dict[str, Decimal] = {}
    who: dict[str, str | None] = {}
    for s in lines:
        net[s[0]] = net.get(s[0], Decimal(0)) + s[5]
        who[s[0]] = s[3]
    positive = [o for o, v in net.items() if v > 0]
    per_customer: dict[str, int] = {}
    for o in positive:
        if who[o] is not None:
            per_customer[who[o]] = per_customer.get(who[o], 0) + 1  # type: ignore[index]
    return {
        "revenue": sum((s[5] for s in lines), Decimal(0)),
        "orders": len(positive),
        "customers": len(per_customer),
        "repeaters": sum(1 for n in per_customer.values() if n >= 2),
    }


@pytest.mark.parametrize(("role", "owner"), [("sales", support.WANG), ("analyst", None), ("viewer", None)])
def test_overview_totals_match_the_rows_the_role_may_see(
    clients: dict[str, httpx.Client], role: str, owner: str | None
) -> None:
    body = clients[f"api:{role}"].get("/api/v1/overview").json()
    expected = _expected_overview(owner)
    kpis = body["kpis"]
    assert Decimal(str(kpis["revenue"])) == expected["revenue"]
    assert kpis["orders"] == expected["orders"]
    assert kpis["customers"] == expected["customers"]
    assert kpis["repurchase_rate"] == pytest.approx(expected["repeaters"] / expected["customers"])  # type: ignore[operator]
    assert sum(Decimal(str(m["revenue"])) for m in body["months"]) == expected["revenue"]
    visible = [s for s in support.scores() if owner is None or support.owner_of(str(s["customer_id"])) == owner]
    counts: dict[str, int] = {}
    for s in visible:
        counts[str(s["segment"])] = counts.get(str(s["segment"]), 0) + 1
    assert {s["segment"]: s["customers"] for s in body["segments"]} == counts


def test_sales_overview_page_shows_their_revenue(clients: dict[str, httpx.Client]) -> None:
    from salescope.i18n import format_money

    expected = _expected_overview(support.WANG)["revenue"]
    html = clients["page:sales"].get("/").text
    assert format_money(expected) in html  # type: ignore[arg-type]
    assert format_money(_expected_overview(None)["revenue"]) not in html  # type: ignore[arg-type]


def test_audit_log_is_admin_only_and_lists_logins(clients: dict[str, httpx.Client]) -> None:
    body = clients["api:admin"].get("/api/v1/audit", params={"action": "login", "limit": 500}).json()
    names = {e["username"] for e in body["items"] if e["success"]}
    assert {u[0] for u in support.USERS.values()} <= names
    assert body["total"] >= len(body["items"])
    html = clients["page:admin"].get("/admin/audit").text
    assert re.search(r"<td>login</td>", html)
