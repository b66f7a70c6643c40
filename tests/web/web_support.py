"""A small, realistic workspace and a real uvicorn server for the web tests.

Two salespeople (王芳 and 李强) own customers in the customer master; one customer
(C008) is known only from order lines, last sold by 李强 after an earlier sale by
王芳, so the row-level rule's fallback is exercised; a few sales are anonymous. The
expected figures in tests are recomputed from these Python lists, never typed in.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pyarrow as pa
import pytest
import uvicorn
from argon2 import PasswordHasher

from salescope.services import auth
from salescope.services.workspace import Workspace

D = Decimal
WANG, LI = "王芳", "李强"

CUSTOMERS = [
    # customer_id, name, salesperson, city
    ("C001", "上海华联贸易有限公司", WANG, "上海"),
    ("C002", "杭州青禾食品有限公司", WANG, "杭州"),
    ("C003", "苏州明远电子科技", WANG, "苏州"),
    ("C004", "南京德盛物流", WANG, "南京"),
    ("C005", "北京恒信医疗器械", LI, "北京"),
    ("C006", "天津港湾建材", LI, "天津"),
    ("C007", "Shenzhen Brightway Ltd", LI, "深圳"),
]

# order_id, line_no, order_date, customer_id, product_id, amount, salesperson
SALES: list[tuple[str, int, date, str | None, str, Decimal, str | None]] = [
    ("SO-1001", 1, date(2024, 1, 5), "C001", "P01", D("12000.00"), WANG),
    ("SO-1001", 2, date(2024, 1, 5), "C001", "P02", D("3450.50"), WANG),
    ("SO-1002", 1, date(2024, 1, 18), "C005", "P03", D("8800.00"), LI),
    ("SO-1003", 1, date(2024, 2, 2), "C002", "P01", D("2399.90"), WANG),
    ("SO-1004", 1, date(2024, 2, 20), "C006", "P04", D("15600.00"), LI),
    ("SO-1005", 1, date(2024, 3, 3), "C001", "P05", D("4200.00"), WANG),
    ("SO-1006", 1, date(2024, 3, 15), "C003", "P02", D("980.25"), WANG),
    ("SO-1007", 1, date(2024, 3, 28), "C008", "P03", D("1500.00"), WANG),
    ("SO-1008", 1, date(2024, 4, 9), "C007", "P06", D("23000.00"), LI),
    ("SO-1008", 2, date(2024, 4, 9), "C007", "P01", D("1200.00"), LI),
    ("SO-1009", 1, date(2024, 4, 30), "C005", "P04", D("6400.00"), LI),
    ("SO-1010", 1, date(2024, 5, 6), "C002", "P05", D("3100.00"), WANG),
    ("SO-1011", 1, date(2024, 5, 21), "C008", "P06", D("2750.00"), LI),
    ("SO-1012", 1, date(2024, 5, 30), None, "P01", D("560.00"), WANG),
    ("SO-1013", 1, date(2024, 6, 3), "C001", "P03", D("7600.00"), WANG),
    ("SO-1014", 1, date(2024, 6, 12), "C001", "P05", D("-1200.00"), WANG),  # a return
    ("SO-1015", 1, date(2024, 6, 19), "C004", "P02", D("5300.00"), WANG),
    ("SO-1016", 1, date(2024, 6, 25), None, "P04", D("890.00"), LI),
    ("SO-1017", 1, date(2024, 6, 27), "C006", "P01", D("4100.00"), LI),
]

SEGMENTS = {
    "111": ("important_value", "重要价值客户", "Important value"),
    "101": ("important_development", "重要发展客户", "Important development"),
    "011": ("important_retention", "重要保持客户", "Important retention"),
    "001": ("important_winback", "重要挽留客户", "Important win-back"),
    "110": ("general_value", "一般价值客户", "General value"),
    "100": ("general_development", "一般发展客户", "General development"),
    "010": ("general_retention", "一般保持客户", "General retention"),
    "000": ("general_winback", "一般挽留客户", "General win-back"),
}

AS_OF = date(2024, 7, 1)

USERS = {
    # role: (username, password, salesperson)
    "admin": ("ada", "Admin-pass-2024", None),
    "analyst": ("alan", "Analyst-pass-2024", None),
    "sales": ("wang", "Sales-pass-2024", WANG),
    "viewer": ("vera", "Viewer-pass-2024", None),
}
SALES_LI = ("li", "Sales-pass-2025", LI)


def owner_of(customer_id: str) -> str | None:
    """The rule as the tests understand it: master salesperson, else that of the latest sale."""
    for cid, _, person, _ in CUSTOMERS:
        if cid == customer_id:
            return person
    lines = sorted((s for s in SALES if s[3] == customer_id), key=lambda s: s[2])
    return lines[-1][6] if lines else None


def customer_ids() -> list[str]:
    return sorted({c[0] for c in CUSTOMERS} | {s[3] for s in SALES if s[3] is not None})


def scores() -> list[dict[str, object]]:
    """RFM by mean thresholds, computed here in plain Python (the analytics engineer owns the real one)."""
    stats = {}
    for cid in customer_ids():
        lines = [s for s in SALES if s[3] == cid]
        orders: dict[str, Decimal] = {}
        for s in lines:
            orders[s[0]] = orders.get(s[0], D(0)) + s[5]
        last = max(s[2] for s in lines)
        stats[cid] = ((AS_OF - last).days, len(orders), sum(orders.values(), D(0)), min(s[2] for s in lines), last)
    n = len(stats)
    mean_r = sum(v[0] for v in stats.values()) / n
    mean_f = sum(v[1] for v in stats.values()) / n
    mean_m = sum(v[2] for v in stats.values()) / n
    rows = []
    for cid, (recency, frequency, monetary, first, last) in stats.items():
        code = f"{int(recency < mean_r)}{int(frequency > mean_f)}{int(monetary > mean_m)}"
        segment, zh, en = SEGMENTS[code]
        rows.append(
            {
                "customer_id": cid,
                "as_of": AS_OF,
                "first_order": first,
                "last_order": last,
                "recency_days": recency,
                "frequency": frequency,
                "monetary": monetary,
                "avg_order_value": monetary / frequency,
                "r_score": int(code[0]) + 1,
                "f_score": int(code[1]) + 1,
                "m_score": int(code[2]) + 1,
                "rfm_code": code,
                "segment": segment,
                "segment_zh": zh,
                "segment_en": en,
            }
        )
    return rows


def _money(values: list[Decimal]) -> pa.Array:
    return pa.array(values, pa.decimal128(18, 4))


def seed(ws: Workspace, *, analysed: bool = True) -> None:
    wh = ws.warehouse
    wh.insert_arrow(
        "customers",
        pa.table(
            {
                "customer_id": [c[0] for c in CUSTOMERS],
                "name": [c[1] for c in CUSTOMERS],
                "kind": ["company"] * len(CUSTOMERS),
                "salesperson": [c[2] for c in CUSTOMERS],
                "city": [c[3] for c in CUSTOMERS],
                "batch_id": ["seed"] * len(CUSTOMERS),
            }
        ),
    )
    wh.insert_arrow(
        "sales",
        pa.table(
            {
                "order_id": [s[0] for s in SALES],
                "line_no": [s[1] for s in SALES],
                "order_date": pa.array([s[2] for s in SALES], pa.date32()),
                "customer_id": [s[3] for s in SALES],
                "product_id": [s[4] for s in SALES],
                "amount": _money([s[5] for s in SALES]),
                "salesperson": [s[6] for s in SALES],
                "batch_id": ["seed"] * len(SALES),
                "source_row": list(range(1, len(SALES) + 1)),
            }
        ),
    )
    if analysed:
        table = pa.Table.from_pylist(scores())
        wh.insert_arrow("customer_scores", table)


def add_users(ws: Workspace) -> dict[str, str]:
    """Every role's user plus 李强's; returns an API token per role."""
    tokens = {}
    for role, (username, password, person) in USERS.items():
        auth.add_user(ws, username, role, password, salesperson=person, actor="test")
        tokens[role] = auth.create_token(ws, username, name="test")
    auth.add_user(ws, SALES_LI[0], "sales", SALES_LI[1], salesperson=SALES_LI[2], actor="test")
    return tokens


PRODUCTION_HASHER = auth.PASSWORD_HASHER
# Real argon2id, with the cheapest parameters: the production ones cost ~0.6 s a hash on the shared CI cores.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@contextmanager
def cheap_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "PASSWORD_HASHER", CHEAP_HASHER)
        yield


@dataclass
class Site:
    """A running app over a seeded workspace."""

    url: str
    ws: Workspace
    app: Any
    tokens: dict[str, str]  # role -> bearer token


@dataclass
class Server:
    url: str
    thread: threading.Thread
    server: uvicorn.Server


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def running(app: object) -> Iterator[Server]:
    """Serve ``app`` with uvicorn on a random free port of 127.0.0.1 until the block ends."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", thread, server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# Ibis 12 reads table schemas with DuckDB 2.0's deprecated fetch_arrow_table(); the warning is raised in
# the server's threads too, so every web test module carries this filter.
IBIS_DEPRECATION = pytest.mark.filterwarnings("ignore:fetch_arrow_table\\(\\) is deprecated:DeprecationWarning")

# Generous: the CI machine is shared, and a slow answer is not what these tests are about.
TIMEOUT = httpx.Timeout(60.0)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, timeout=TIMEOUT, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return request("POST", url, **kwargs)


def delete(url: str, **kwargs: Any) -> httpx.Response:
    return request("DELETE", url, **kwargs)


def client(url: str, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=TIMEOUT, **kwargs)


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    if found is None:
        raise AssertionError("the page has no CSRF token field")
    return found.group(1)


def login(client: httpx.Client, username: str, password: str, *, next_url: str = "/") -> httpx.Response:
    """Log in through the form like a browser: fetch it (sets the login cookie), post it with its token."""
    form = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": next_url},
    )


@contextmanager
def logged_in(url: str, role: str) -> Iterator[httpx.Client]:
    """A client holding a session of the given role's user, logged in through the form."""
    username, password, _ = USERS[role]
    with client(url) as c:
        response = login(c, username, password)
        if response.status_code != 303:
            raise AssertionError(f"login as {username} failed: {response.status_code}")
        yield c
