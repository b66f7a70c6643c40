"""Pages over real HTTP: security headers, CSP-compatible markup, language switch, customers, empty states."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import web_support as support
from web_support import Site

from salescope.i18n import format_money
from salescope.services.workspace import Workspace
from salescope.web.app import create_app
from salescope.web.rendering import LANG_COOKIE
from salescope.web.security import CONTENT_SECURITY_POLICY

pytestmark = [support.IBIS_DEPRECATION]

VENDOR = Path(__file__).resolve().parents[2] / "src" / "salescope" / "web" / "static" / "vendor"


@pytest.fixture(scope="module")
def analyst(site: Site) -> Iterator[httpx.Client]:
    with support.logged_in(site.url, "analyst") as c:
        yield c


@pytest.mark.parametrize("path", ["/", "/customers", "/customers/C001", "/api/v1/me", "/static/app.css", "/nope"])
def test_security_headers_on_every_kind_of_response(analyst: httpx.Client, path: str) -> None:
    r = analyst.get(path)
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"
    if not path.startswith("/static"):
        assert r.headers["cache-control"] == "no-store"  # pages and API answers carry customer data


def test_login_page_has_security_headers_too(site: Site) -> None:
    r = support.get(site.url + "/login")
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/", "/customers", "/customers/C001", "/admin/audit", "/login"])
def test_pages_run_under_script_src_self(site: Site, path: str) -> None:
    """No inline script and no inline event handlers: every script is a file of ours or a JSON data block."""
    with support.logged_in(site.url, "admin") as c:
        html = c.get(path).text
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    for block in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S):
        json.loads(block)  # data, not code
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert "javascript:" not in html
    assert "cdn" not in html.lower()


def test_vendor_scripts_are_served_locally(analyst: httpx.Client) -> None:
    if not (VENDOR / "echarts.min.js").exists():
        pytest.skip("vendor assets are not installed; run `make assets`")
    html = analyst.get("/").text
    for script in ("/static/vendor/echarts.min.js", "/static/vendor/htmx.min.js", "/static/charts.js"):
        assert f'src="{script}"' in html
        r = analyst.get(script)
        assert r.status_code == 200
        assert "javascript" in r.headers["content-type"]


def test_overview_page_shows_kpis_and_embeds_chart_data(site: Site, analyst: httpx.Client) -> None:
    html = analyst.get("/").text
    total = sum(s[5] for s in support.SALES)
    assert format_money(total) in html
    data = json.loads(re.search(r'<script type="application/json" id="overview-data">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    months = sorted({s[2].strftime("%Y-%m") for s in support.SALES})
    assert [m["month"] for m in data["months"]] == months
    assert sum(s["value"] for s in data["segments"]) == len(support.scores())
    assert {s["name"] for s in data["segments"]} <= {z for _, z, _ in support.SEGMENTS.values()}
    assert data["customers_url"] == "/customers?segment="


def test_language_switch_sets_a_cookie_and_sticks(site: Site) -> None:
    with support.logged_in(site.url, "viewer") as c:
        assert "<h1>销售概览</h1>" in c.get("/").text  # zh-CN by default
        r = c.get("/?lang=en")
        assert "<h1>Sales overview</h1>" in r.text
        assert '<html lang="en">' in r.text
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(LANG_COOKIE))
        assert "httponly" in cookie.lower()
        html = c.get("/customers").text
        assert "<h1>Customers</h1>" in html
        data = json.loads(re.search(r'id="overview-data">(.*?)</script>', c.get("/").text, re.S)[1])  # type: ignore[index]
        assert {s["name"] for s in data["segments"]} <= {e for _, _, e in support.SEGMENTS.values()}
        assert "<h1>销售概览</h1>" in c.get("/?lang=zh-CN").text
        assert "<h1>销售概览</h1>" in c.get("/").text
        c.get("/?lang=en")
        junk = c.get("/?lang=klingon")  # an unknown language is ignored: the remembered one stays
        assert "<h1>Sales overview</h1>" in junk.text
        assert not any(h.startswith(LANG_COOKIE) for h in junk.headers.get_list("set-cookie"))


def test_language_links_keep_the_query(analyst: httpx.Client) -> None:
    html = analyst.get("/customers?q=%E5%8D%8E&segment=important_value").text
    assert 'href="/customers?q=%E5%8D%8E&amp;segment=important_value&amp;lang=en"' in html


def test_customers_page_searches_filters_and_paginates(site: Site, analyst: httpx.Client) -> None:
    html = analyst.get("/customers", params={"q": "华联"}).text
    assert "上海华联贸易有限公司" in html
    assert "北京恒信医疗器械" not in html
    segment = next(s for s in support.scores() if s["customer_id"] == "C005")["segment"]
    html = analyst.get("/customers", params={"segment": segment}).text
    members = [s["customer_id"] for s in support.scores() if s["segment"] == segment]
    for cid in support.customer_ids():
        assert (f'href="/customers/{cid}"' in html) == (cid in members), cid
    assert f'<option value="{segment}" selected>' in html


def test_customers_page_paginates_by_fifty(site: Site, analyst: httpx.Client) -> None:
    html = analyst.get("/customers", params={"offset": 5}).text
    rows = re.findall(r'<td><a href="/customers/(C\d+)">', html)
    assert len(rows) == len(support.customer_ids()) - 5
    assert "offset=0" in html  # a link back to the first page
    assert analyst.get("/customers", params={"offset": -1}).status_code == 400


def test_htmx_search_gets_only_the_results_fragment(analyst: httpx.Client) -> None:
    r = analyst.get(
        "/customers",
        params={"q": "brightway"},
        headers={"HX-Request": "true", "HX-Target": "customer-results"},
    )
    assert r.status_code == 200
    assert "<html" not in r.text
    assert re.findall(r'<td><a href="/customers/(C\d+)">', r.text) == ["C007"]


def test_customer_page_shows_profile_and_orders(analyst: httpx.Client) -> None:
    html = analyst.get("/customers/C001").text
    assert "上海华联贸易有限公司" in html
    for order_id in {s[0] for s in support.SALES if s[3] == "C001"}:
        assert f"<td>{order_id}</td>" in html
    assert format_money(sum(s[5] for s in support.SALES if s[3] == "C001")) in html
    assert "-¥1,200.00" in html  # the return, shown as a negative amount


def test_not_found_and_forbidden_pages_are_small_and_bilingual(site: Site) -> None:
    with support.logged_in(site.url, "viewer") as c:
        missing = c.get("/customers/NO-SUCH")
        assert missing.status_code == 404
        assert "未找到" in missing.text and "Not found" in missing.text
        forbidden = c.get("/admin/audit")
        assert forbidden.status_code == 403
        assert "没有权限" in forbidden.text and "Forbidden" in forbidden.text
        nowhere = c.get("/no/such/page")
        assert nowhere.status_code == 404
        assert nowhere.headers["content-type"].startswith("text/html")


def test_templates_escape_data(tmp_path: Path) -> None:
    """A customer name with markup is shown as text, never executed."""
    ws = Workspace(tmp_path / "ws")
    support.seed(ws)
    ws.warehouse.execute("UPDATE customers SET name = '<script>alert(1)</script>' WHERE customer_id = 'C001'")
    support.add_users(ws)
    with support.running(create_app(ws)) as server, support.logged_in(server.url, "analyst") as c:
        for path in ("/customers", "/customers/C001"):
            html = c.get(path).text
            assert "<script>alert(1)</script>" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    ws.close()


@pytest.fixture
def unanalysed(tmp_path: Path) -> Iterator[Site]:
    ws = Workspace(tmp_path / "ws")
    support.seed(ws, analysed=False)
    tokens = support.add_users(ws)
    app = create_app(ws)
    with support.running(app) as server:
        yield Site(server.url, ws, app, tokens)
    ws.close()


def test_overview_before_analyze_shows_a_clear_empty_state(unanalysed: Site) -> None:
    with support.logged_in(unanalysed.url, "analyst") as c:
        r = c.get("/")
        assert r.status_code == 200
        assert "尚未分析 — 运行 salescope analyze" in r.text
        assert 'id="chart-segments"' not in r.text
        assert 'id="chart-revenue"' in r.text  # revenue needs no analysis
        assert "Not analysed yet — run salescope analyze" in c.get("/?lang=en").text
    body = support.get(
        unanalysed.url + "/api/v1/overview", headers={"Authorization": f"Bearer {unanalysed.tokens['admin']}"}
    )
    assert body.json()["analysed"] is False
    assert body.json()["segments"] == []
    assert body.json()["kpis"]["orders"] > 0


def test_empty_workspace_overview_says_to_import(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    support.add_users(ws)
    with support.running(create_app(ws)) as server, support.logged_in(server.url, "viewer") as c:
        r = c.get("/")
        assert r.status_code == 200
        assert "尚无销售数据" in r.text
        body = c.get("/api/v1/overview").json()
        assert body["kpis"] == {
            "revenue": 0.0,
            "orders": 0,
            "customers": 0,
            "avg_order_value": None,
            "repurchase_rate": None,
        }
        assert c.get("/customers").status_code == 200
    ws.close()


def test_factory_mode_opens_the_workspace_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESCOPE_WORKSPACE", str(tmp_path / "from-env"))
    app = create_app()
    try:
        assert app.state.workspace.root == tmp_path / "from-env"
        assert (tmp_path / "from-env" / "warehouse.duckdb").exists()
        assert (tmp_path / "from-env" / "app.sqlite").exists()
    finally:
        app.state.workspace.close()
