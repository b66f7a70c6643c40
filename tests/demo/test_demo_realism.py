"""The demo data has the structure the analyses are meant to find (numbers computed from the files)."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import re
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
import phonenumbers
from demo_support import END, Demo, parse_date, parse_money, read_table

from salescope.demo.calendar import SPRING_FESTIVAL

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _sales(demo: Demo) -> Iterator[dict[str, object]]:
    """Loadable sales lines (bad rows skipped, exact repeats kept once), with parsed date and amount."""
    seen: set[tuple[object, ...]] = set()
    for f in demo.of_kind("sales"):
        header, rows = read_table(f.path)
        for r in rows:
            key = tuple(r)
            d, a = parse_date(r[2]), parse_money(r[11])
            if key in seen or d is None or a is None:
                continue
            seen.add(key)
            line: dict[str, object] = dict(zip(header, r, strict=True))
            line["date"], line["amount"] = d, a
            yield line


def _daily_revenue(demo: Demo) -> dict[dt.date, float]:
    out: dict[dt.date, float] = collections.defaultdict(float)
    for line in _sales(demo):
        out[line["date"]] += float(line["amount"])  # type: ignore[index,arg-type]
    return out


def _week_ratio(rev: dict[dt.date, float], first: dt.date) -> float | None:
    """Revenue of the 7 days from ``first`` over the median 7-day revenue of the surrounding quarter."""

    def week(d0: dt.date) -> float:
        return sum(rev.get(d0 + dt.timedelta(days=i), 0.0) for i in range(7))

    lo, hi = min(rev), max(rev)
    if first - dt.timedelta(days=91) < lo or first + dt.timedelta(days=98) > hi:
        return None
    around = [week(first + dt.timedelta(days=7 * k)) for k in range(-13, 14) if abs(k) > 1]
    return week(first) / float(np.median(around))


def test_double_eleven_peaks_and_spring_festival_dips(small_demo: Demo) -> None:
    rev = _daily_revenue(small_demo)
    d11 = [r for y in (2023, 2024, 2025) if (r := _week_ratio(rev, dt.date(y, 11, 5))) is not None]
    festival = [r for y in (2023, 2024, 2025) if (r := _week_ratio(rev, SPRING_FESTIVAL[y] - dt.timedelta(2)))]
    assert len(d11) == 2 and len(festival) == 2  # the years whose surrounding quarter is inside the data
    # Nov 5–11 carries the Double 11 run-up; the Spring Festival week is when China stops buying.
    assert min(d11) > 1.3, d11
    assert max(festival) < 0.5, festival
    weekday = collections.defaultdict(float)
    for d, r in rev.items():
        weekday[d.weekday()] += r
    assert weekday[6] < 0.6 * weekday[2]  # B2B buyers do not order on Sundays


def test_revenue_grows_year_on_year(small_demo: Demo) -> None:
    by_year = collections.Counter[int]()
    for line in _sales(small_demo):
        d = line["date"]
        assert isinstance(d, dt.date)
        if d.month <= 10:
            by_year[d.year] += int(line["amount"])  # type: ignore[call-overload]
    assert by_year[2023] < by_year[2024] < by_year[2025] * 1.15


def test_customer_value_follows_the_pareto_principle(small_demo: Demo) -> None:
    revenue: collections.Counter[str] = collections.Counter()
    for line in _sales(small_demo):
        if line["客户编号"]:
            revenue[str(line["客户编号"])] += float(line["amount"])  # type: ignore[arg-type]
    values = sorted(revenue.values(), reverse=True)
    top = sum(values[: len(values) // 5]) / sum(values)
    assert 0.7 <= top <= 0.92, top


def test_customers_arrive_churn_and_come_back(small_demo: Demo) -> None:
    days: dict[str, set[dt.date]] = collections.defaultdict(set)
    for line in _sales(small_demo):
        if line["客户编号"] and Decimal(str(line["amount"])) > 0:
            days[str(line["客户编号"])].add(line["date"])  # type: ignore[arg-type]
    first_month = collections.Counter((min(d).year, min(d).month) for d in days.values())
    months = sorted({(d.year, d.month) for ds in days.values() for d in ds})
    assert all(first_month[m] >= 5 for m in months[3:])  # new customers every month
    dated = {c: sorted(d) for c, d in days.items()}
    churned = [c for c, d in dated.items() if len(d) >= 3 and d[-1] < END - dt.timedelta(days=270)]
    came_back = [
        c for c, d in dated.items() if any((b - a).days > 180 for a, b in itertools.pairwise(d)) and len(d) >= 4
    ]
    one_off = [c for c, d in dated.items() if len(d) == 1]
    # Enough of each for RFM segments, lifecycle stages and BTYD fits to have signal.
    assert len(churned) > 100 and len(came_back) > 30 and len(one_off) > 100, (len(churned), len(came_back))


def test_product_popularity_is_zipf_within_each_category(small_demo: Demo) -> None:
    lines: collections.Counter[str] = collections.Counter()
    category: dict[str, str] = {}
    for line in _sales(small_demo):
        lines[str(line["产品编码"])] += 1
        category[str(line["产品编码"])] = str(line["类别"])
    assert len(set(category.values())) == 8
    for cat in set(category.values()):
        counts = sorted((n for p, n in lines.items() if category[p] == cat), reverse=True)
        slope = np.polyfit(np.log(np.arange(1, len(counts) + 1)), np.log(counts), 1)[0]
        assert -1.6 < slope < -0.7, (cat, slope)
        assert sum(counts[: len(counts) // 5]) / sum(counts) > 0.5


def test_lines_returns_anonymous_sales_and_ownership(small_demo: Demo) -> None:
    lines = list(_sales(small_demo))
    returns = [x for x in lines if Decimal(str(x["amount"])) < 0]
    assert 0.015 <= len(returns) / len(lines) <= 0.025
    assert all(str(x["订单编号"]).startswith("TH") and int(str(x["数量"])) < 0 for x in returns)
    anonymous = [x for x in lines if not x["客户编号"]]
    assert 0.01 <= len(anonymous) / len(lines) <= 0.05
    assert {x["渠道"] for x in anonymous} == {"门店"} and not any(x["销售员"] for x in anonymous)

    owner: dict[str, set[object]] = collections.defaultdict(set)
    region_of: dict[str, set[object]] = collections.defaultdict(set)
    for x in lines:
        if x["客户编号"]:
            owner[str(x["客户编号"])].add(x["销售员"])
        region_of[str(x["省份"])].add(x["区域"])
    assert all(len(s) == 1 for s in owner.values())  # a customer's salesperson never changes
    assert 8 <= len({next(iter(s)) for s in owner.values()}) <= 15
    assert all(len(r) == 1 for r in region_of.values())
    assert {next(iter(r)) for r in region_of.values()} == {"华东", "华南", "华北", "华中", "西南", "西北", "东北"}
    assert 3 <= len({x["渠道"] for x in lines}) <= 5
    # Margins: cost stays below price on ordinary lines.
    positive = [x for x in lines if Decimal(str(x["amount"])) > 0]
    below = sum(parse_money(x["成本"]) < x["amount"] for x in positive)  # type: ignore[operator]
    assert below / len(positive) > 0.99


def test_customers_have_realistic_identities(small_demo: Demo) -> None:
    header, rows = read_table(small_demo.dir / "customers.xlsx")
    col = {h: i for i, h in enumerate(header)}
    kinds = collections.Counter(r[col["客户类型"]] for r in rows)
    assert set(kinds) == {"企业", "个人"} and kinds["企业"] > 300 and kinds["个人"] > 300
    for r in rows:
        number = phonenumbers.parse(str(r[col["联系电话"]]), "CN")
        assert phonenumbers.is_valid_number(number), r[col["联系电话"]]
        assert str(r[col["地址"]]).startswith(str(r[col["省份"]]))
        if r[col["客户类型"]] == "企业":
            assert re.search(r"(有限公司|有限责任公司)$", str(r[col["客户名称"]]))
            assert _uscc_ok(str(r[col["统一社会信用代码"]])), r[col["统一社会信用代码"]]
        else:
            assert 2 <= len(str(r[col["客户名称"]])) <= 3 and not r[col["统一社会信用代码"]]
    # Each second code is the same company registered again: same tax id and phone, another spelling.
    by_code = {r[col["客户编号"]]: r for r in rows}
    for first, second in small_demo.manifest["customers"]["second_codes"]:
        a, b = by_code[first], by_code[second]
        assert a[col["统一社会信用代码"]] == b[col["统一社会信用代码"]] and a[col["联系电话"]] == b[col["联系电话"]]
        assert _same_company(str(a[col["客户名称"]]), str(b[col["客户名称"]]))


def _uscc_ok(code: str) -> bool:
    """GB 32100-2015 check character, written independently of the generator."""
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        return False
    total = sum(USCC_CHARS.index(c) * (3**i % 31) for i, c in enumerate(code[:17]))
    return USCC_CHARS[(31 - total % 31) % 31] == code[17]


def _core(name: str) -> str:
    """Region + trade name + industry, or trade name + industry: brackets and legal form removed."""
    name = re.sub(r"[（(][^）)]*[）)]", "", name)
    return re.sub(r"(股份有限公司|有限责任公司|集团有限公司|有限公司)$", "", name)


def _same_company(registered: str, variant: str) -> bool:
    """A variant keeps the trade name and industry; it may move or drop the region and the legal form."""
    return _core(registered).endswith(_core(variant)) and len(_core(variant)) >= 4


def test_company_name_variants_share_one_customer_code(small_demo: Demo) -> None:
    _, rows = read_table(small_demo.dir / "customers.xlsx")
    master = {r[0]: str(r[1]) for r in rows}
    spellings: dict[str, set[str]] = collections.defaultdict(set)
    for line in _sales(small_demo):
        if line["客户编号"]:
            spellings[str(line["客户编号"])].add(str(line["客户名称"]))
    varied = {code: names for code, names in spellings.items() if len(names) > 1}
    assert len(varied) >= 30
    for code, names in varied.items():
        assert all(_same_company(master[code], name) for name in names), (code, names)
    ledger = small_demo.ledger("sales_orders.csv")["injected"]
    assert ledger["name_variant_lines"] > 100 and ledger["alternate_code_lines"] > 10


def test_suppliers_differ_in_punctuality_and_quality(small_demo: Demo) -> None:
    header, rows = read_table(small_demo.dir / "purchases.xlsx")
    col = {h: i for i, h in enumerate(header)}
    on_time: dict[str, list[bool]] = collections.defaultdict(list)
    defects: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for r in rows[:-1]:
        promised, received = parse_date(r[col["约定交期"]]), parse_date(r[col["到货日期"]])
        ordered = parse_date(r[col["采购日期"]])
        if not (promised and received and ordered):
            assert r[col["状态"]] == "在途" or ordered is None
            continue
        assert ordered < promised and ordered < received
        got, rejected = float(r[col["到货数量"]]), float(r[col["不合格数量"]])  # type: ignore[arg-type]
        assert 0 <= rejected <= got <= float(r[col["数量"]])  # type: ignore[arg-type]
        on_time[str(r[col["供应商编号"]])].append(received <= promised)
        defects[str(r[col["供应商编号"]])][0] += rejected
        defects[str(r[col["供应商编号"]])][1] += got
    rates = [float(np.mean(v)) for v in on_time.values() if len(v) >= 10]
    assert max(rates) - min(rates) > 0.4
    defect_rates = [a / b for a, b in defects.values() if b]
    assert max(defect_rates) > 5 * float(np.median(defect_rates))


def test_stock_snapshots_are_monthly_per_product(small_demo: Demo) -> None:
    _, rows = read_table(small_demo.dir / "inventory.csv")
    dates = {d for d in (parse_date(r[0]) for r in rows) if d}
    assert len(dates) == 36 and all((d + dt.timedelta(days=1)).day == 1 for d in dates)
    _, products = read_table(small_demo.dir / "products.csv")
    cost = {r[0]: parse_money(r[4]) for r in products}
    price = {r[0]: parse_money(r[5]) for r in products}
    assert all(cost[p] < price[p] for p in cost)  # type: ignore[operator]
    assert {r[1] for r in rows} == set(cost)
    assert any(r[4] == "0" for r in rows)  # late suppliers do cause stock-outs


def test_opportunities_move_through_the_funnel(small_demo: Demo) -> None:
    header, rows = read_table(small_demo.dir / "opportunities.csv")
    col = {h: i for i, h in enumerate(header)}
    stages = collections.Counter(r[col["阶段"]] for r in rows)
    assert set(stages) == {"线索", "需求确认", "方案报价", "谈判", "赢单", "输单"}
    assert stages["输单"] > stages["赢单"] > 0
    reasons = collections.Counter(r[col["输单原因"]] for r in rows if r[col["状态"]] == "输单")
    assert "" not in reasons and {"价格过高", "选择竞品", "预算不足"} <= set(reasons)
    _, customers = read_table(small_demo.dir / "customers.xlsx")
    codes = {r[0] for r in customers}
    for r in rows:
        assert r[col["客户编号"]] in codes
        closed = r[col["状态"]] in ("赢单", "输单")
        assert bool(r[col["成交日期"]]) == closed
        assert (r[col["阶段"]] == r[col["状态"]]) if closed else r[col["状态"]] == "进行中"
        created = parse_date(r[col["创建日期"]])
        assert created is not None and created <= (parse_date(r[col["进入阶段日期"]]) or END) <= END


def test_satisfaction_scores_are_in_range_and_predict_churn(small_demo: Demo) -> None:
    header, rows = read_table(small_demo.dir / "feedback.csv")
    col = {h: i for i, h in enumerate(header)}
    last_order: dict[str, dt.date] = {}
    for line in _sales(small_demo):
        code, d = str(line["客户编号"]), line["date"]
        assert isinstance(d, dt.date)
        if code and d > last_order.get(code, dt.date.min):
            last_order[code] = d
    kept, lapsed = [], []
    for r in rows:
        score, d, kind = parse_money(r[col["评分"]]), parse_date(r[col["反馈日期"]]), r[col["问卷类型"]]
        if score is None or d is None:
            continue
        assert (0 <= score <= 10) if kind == "NPS" else (kind == "CSAT" and 1 <= score <= 5)
        code = str(r[col["客户编号"]])
        if kind == "NPS" and code in last_order and d < END - dt.timedelta(days=180):
            (lapsed if last_order[code] < d + dt.timedelta(days=90) else kept).append(float(score))
    # Customers who stop buying soon after a survey scored lower than those who kept buying.
    assert len(lapsed) > 30 and float(np.mean(lapsed)) < float(np.mean(kept)) - 1.0


def test_targets_cover_every_month_for_total_and_each_salesperson(small_demo: Demo) -> None:
    _, rows = read_table(small_demo.dir / "targets.csv")
    periods = sorted({r[0] for r in rows})
    assert periods[0] == "2022-11" and periods[-1] == "2026-01" and len(periods) == 39
    scopes = {r[1] for r in rows}
    assert "total" in scopes and 8 <= len(scopes - {"total"}) <= 15
    totals = {r[0]: parse_money(r[3]) for r in rows if r[1] == "total"}
    assert len(totals) == 39
    for period in periods:
        # Keyed by scope, so an exact repeated row counts once (as the importer loads it).
        people = list({r[1]: parse_money(r[3]) for r in rows if r[0] == period and r[1] != "total"}.values())
        known = [v for v in people if v is not None]
        if len(known) == len(people) and totals[period] is not None:
            assert sum(known) <= totals[period] <= sum(known) * Decimal("1.1")  # type: ignore[operator]
