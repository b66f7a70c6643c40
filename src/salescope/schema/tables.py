"""Canonical warehouse tables as pure data.

The column lists are the contract between importers, analytics, pages and the API;
DDL is generated from them so the contract cannot drift from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LogicalType = Literal["text", "date", "timestamp", "money", "decimal", "int", "float", "bool"]

SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "money": "DECIMAL(18,4)",
    "decimal": "DECIMAL(18,4)",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: LogicalType
    nullable: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    doc: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, type_: LogicalType, nullable: bool = True, doc: str = "") -> Column:
    return Column(name, type_, nullable, doc)


SALES = Table(
    "sales",
    (
        _c("order_id", "text", False),
        _c("line_no", "int", False, "line within the order; assigned in file order when the source has none"),
        _c("order_date", "date", False),
        _c("customer_id", "text", doc="NULL for anonymous sales"),
        _c("product_id", "text", False, "'UNKNOWN' when the source names no product"),
        _c("quantity", "decimal"),
        _c("unit_price", "money"),
        _c("amount", "money", False, "negative for returns"),
        _c("cost", "money"),
        _c("discount", "decimal"),
        _c("salesperson", "text"),
        _c("region", "text"),
        _c("province", "text"),
        _c("city", "text"),
        _c("channel", "text"),
        _c("batch_id", "text", False),
        _c("source_row", "int", False, "1-based data row number in the source file"),
    ),
    key=("order_id", "line_no"),
    doc="One row per order line.",
)

CUSTOMERS = Table(
    "customers",
    (
        _c("customer_id", "text", False),
        _c("name", "text"),
        _c("kind", "text", doc="company | person"),
        _c("phone", "text", doc="E.164"),
        _c("email", "text"),
        _c("address", "text"),
        _c("city", "text"),
        _c("province", "text"),
        _c("region", "text"),
        _c("industry", "text"),
        _c("salesperson", "text"),
        _c("tax_id", "text", doc="统一社会信用代码"),
        _c("first_seen", "date"),
        _c("batch_id", "text"),
    ),
    key=("customer_id",),
)

CUSTOMER_SOURCES = Table(
    "customer_sources",
    (
        _c("source_key", "text", False, "normalised source code or spelling"),
        _c("source_code", "text"),
        _c("source_name", "text"),
        _c("customer_id", "text", False),
        _c("evidence", "text"),
        _c("score", "float"),
        _c("batch_id", "text"),
    ),
    key=("source_key",),
)

PRODUCTS = Table(
    "products",
    (
        _c("product_id", "text", False),
        _c("name", "text"),
        _c("category", "text"),
        _c("subcategory", "text"),
        _c("unit_cost", "money"),
        _c("unit_price", "money"),
        _c("batch_id", "text"),
    ),
    key=("product_id",),
)

PURCHASES = Table(
    "purchases",
    (
        _c("po_id", "text", False),
        _c("line_no", "int", False),
        _c("order_date", "date", False),
        _c("supplier_id", "text"),
        _c("product_id", "text", False),
        _c("quantity", "decimal"),
        _c("unit_price", "money"),
        _c("amount", "money", False),
        _c("promised_date", "date"),
        _c("received_date", "date"),
        _c("received_qty", "decimal"),
        _c("rejected_qty", "decimal"),
        _c("status", "text"),
        _c("batch_id", "text", False),
        _c("source_row", "int", False),
    ),
    key=("po_id", "line_no"),
)

SUPPLIERS = Table(
    "suppliers",
    (
        _c("supplier_id", "text", False),
        _c("name", "text"),
        _c("phone", "text"),
        _c("province", "text"),
        _c("category", "text"),
        _c("batch_id", "text"),
    ),
    key=("supplier_id",),
)

INVENTORY = Table(
    "inventory",
    (
        _c("snapshot_date", "date", False),
        _c("product_id", "text", False),
        _c("warehouse", "text"),
        _c("on_hand_qty", "decimal"),
        _c("value", "money"),
        _c("batch_id", "text", False),
        _c("source_row", "int", False),
    ),
    key=("snapshot_date", "product_id", "warehouse"),
)

OPPORTUNITIES = Table(
    "opportunities",
    (
        _c("opportunity_id", "text", False),
        _c("customer_id", "text"),
        _c("salesperson", "text"),
        _c("product_id", "text"),
        _c("created_date", "date"),
        _c("stage", "text"),
        _c("stage_entered", "date"),
        _c("amount", "money"),
        _c("expected_close", "date"),
        _c("close_date", "date"),
        _c("status", "text", doc="open | won | lost"),
        _c("lost_reason", "text"),
        _c("source", "text"),
        _c("batch_id", "text", False),
        _c("source_row", "int", False),
    ),
    key=("opportunity_id",),
)

FEEDBACK = Table(
    "feedback",
    (
        _c("feedback_id", "text", False),
        _c("customer_id", "text"),
        _c("date", "date", False),
        _c("kind", "text", False, "nps | csat | ces"),
        _c("score", "decimal", False),
        _c("comment", "text"),
        _c("batch_id", "text", False),
        _c("source_row", "int", False),
    ),
    key=("feedback_id",),
)

TARGETS = Table(
    "targets",
    (
        _c("period", "text", False, "YYYY-MM, YYYY-Qn or YYYY"),
        _c("scope", "text", False, "'total' or dimension=value, e.g. salesperson=王芳"),
        _c("metric", "text", False),
        _c("value", "decimal", False),
        _c("batch_id", "text", False),
        _c("source_row", "int", False),
    ),
    key=("period", "scope", "metric"),
)

IMPORT_BATCHES = Table(
    "import_batches",
    (
        _c("batch_id", "text", False),
        _c("kind", "text", False),
        _c("file_name", "text", False),
        _c("file_sha256", "text", False),
        _c("stored_path", "text"),
        _c("imported_at", "timestamp", False),
        _c("imported_by", "text"),
        _c("rows", "int", False),
        _c("loaded", "int", False),
        _c("duplicates", "int", False),
        _c("quarantined", "int", False),
        _c("skipped", "int", False),
        _c("mapping", "text", doc="JSON: source header -> canonical field"),
        _c("notes", "text", doc="JSON list of notes, e.g. amounts computed from quantity x price"),
        _c("status", "text", False, "loaded | undone"),
    ),
    key=("batch_id",),
)

QUARANTINE = Table(
    "quarantine",
    (
        _c("batch_id", "text", False),
        _c("source_row", "int", False),
        _c("bucket", "text", False, "quarantined | skipped"),
        _c("column_name", "text"),
        _c("value", "text"),
        _c("reason", "text", False),
        _c("raw", "text", False, "the source row as JSON"),
    ),
    key=("batch_id", "source_row"),
)

CUSTOMER_SCORES = Table(
    "customer_scores",
    (
        _c("customer_id", "text", False),
        _c("as_of", "date", False),
        _c("first_order", "date"),
        _c("last_order", "date"),
        _c("recency_days", "int"),
        _c("frequency", "int"),
        _c("monetary", "money"),
        _c("avg_order_value", "money"),
        _c("r_score", "int"),
        _c("f_score", "int"),
        _c("m_score", "int"),
        _c("rfm_code", "text"),
        _c("segment", "text"),
        _c("segment_zh", "text"),
        _c("segment_en", "text"),
    ),
    key=("customer_id",),
    doc="Materialised by analyze; one row per identified customer.",
)

SEGMENT_HISTORY = Table(
    "segment_history",
    (
        _c("snapshot_date", "date", False),
        _c("customer_id", "text", False),
        _c("segment", "text", False),
        _c("rfm_code", "text"),
    ),
    key=("snapshot_date", "customer_id"),
)

ANALYSIS_RUNS = Table(
    "analysis_runs",
    (
        _c("run_id", "text", False),
        _c("as_of", "date", False),
        _c("started_at", "timestamp", False),
        _c("finished_at", "timestamp"),
        _c("steps", "text", doc="JSON: step -> seconds"),
    ),
    key=("run_id",),
)

KPIS = Table(
    "kpis",
    (
        _c("freq", "text", False, "day | week | month | quarter | year"),
        _c("period", "text", False, "label: 2024-03-05, 2024-W10, 2024-03, 2024-Q1 (fiscal), 2024 (fiscal)"),
        _c("period_idx", "int", False, "consecutive integer per freq, so lags are arithmetic"),
        _c("period_start", "date", False),
        _c("period_end", "date", False),
        _c("dim", "text", False, "'total' or the slicing dimension: region, province, channel, ..."),
        _c("slice", "text", False, "'total' or the dimension value; '(none)' where the line has no value"),
        _c("revenue", "money", doc="net of returns"),
        _c("gross_sales", "money", doc="positive lines only"),
        _c("returns", "money", doc="absolute value of negative lines"),
        _c("quantity", "decimal"),
        _c("orders", "int", doc="distinct orders with a positive line"),
        _c("aov", "float", doc="客单价: revenue / orders"),
        _c("cost", "money", doc="cost of the lines whose cost is known"),
        _c("revenue_with_cost", "money", doc="revenue of the lines whose cost is known"),
        _c("gross_profit", "money"),
        _c("gross_margin", "float", doc="gross_profit / revenue_with_cost"),
        _c("cost_coverage", "float", doc="share of revenue whose cost is known"),
        _c("discount_rate", "float", doc="discount given / list value, over lines with a discount recorded"),
        _c("return_rate", "float", doc="returns / gross_sales"),
        _c("customers_active", "int"),
        _c("customers_new", "int", doc="first order ever falls in this period"),
        _c("customers_repeat", "int", doc="two or more orders in this period"),
        _c("customers_churned", "int", doc="active in the previous period, not in this one"),
        _c("repurchase_rate", "float", doc="customers_repeat / customers_active"),
        _c("churn_rate", "float", doc="customers_churned / customers active in the previous period"),
        _c("revenue_per_customer", "float", doc="revenue of identified customers / customers_active"),
        _c("revenue_prev", "money", doc="the previous period's revenue"),
        _c("revenue_last_year", "money", doc="the same period a year earlier"),
        _c("pop_growth", "float", doc="period over period: MoM for months, WoW for weeks"),
        _c("yoy_growth", "float"),
        _c("inventory_value", "money", doc="mean stock value over the period's snapshots"),
        _c("inventory_turnover", "float", doc="cost / inventory_value"),
        _c("inventory_days", "float", doc="days in period / inventory_turnover"),
        _c("fill_rate", "float", doc="received / ordered quantity on purchase lines with a receipt"),
    ),
    key=("freq", "period", "dim", "slice"),
    doc="Materialised by analyze: KPIs per period and slice.",
)

ANOMALIES = Table(
    "anomalies",
    (
        _c("as_of", "date", False),
        _c("freq", "text", False),
        _c("metric", "text", False),
        _c("dim", "text", False),
        _c("slice", "text", False),
        _c("period", "text", False),
        _c("period_start", "date", False),
        _c("value", "float", False),
        _c("expected", "float", False, "trend + seasonal from STL (or the local median on short series)"),
        _c("z", "float", False, "robust z of the residual: (r - median) / (1.4826 MAD)"),
        _c("direction", "text", False, "high | low"),
    ),
    key=("freq", "metric", "dim", "slice", "period"),
    doc="Materialised by analyze: unusual periods per KPI and slice, for alert rules.",
)

FORECASTS = Table(
    "forecasts",
    (
        _c("created_at", "timestamp", False),
        _c("by", "text", False, "total | category | product | region | customer"),
        _c("freq", "text", False, "week | month"),
        _c("series", "text", False),
        _c("ds", "date", False, "period start"),
        _c("model", "text", False, "chosen per series by rolling-origin backtest"),
        _c("forecast", "float", False, "never negative"),
        _c("lo80", "float"),
        _c("hi80", "float"),
        _c("lo95", "float"),
        _c("hi95", "float"),
        _c("mase", "float", doc="backtest MASE of the chosen model for this series"),
        _c("baseline_mase", "float", doc="backtest MASE of seasonal naive for this series"),
    ),
    key=("by", "freq", "series", "ds"),
    doc="Materialised by analyze and `salescope forecast`; one run per (by, freq) is kept.",
)

ORDER_FACTS = Table(
    "order_facts",
    (
        _c("customer_id", "text", doc="NULL for anonymous orders"),
        _c("order_id", "text", False),
        _c("order_date", "date", False, "earliest line date of the order"),
        _c("amount", "money", False, "net: returns subtract"),
        _c("lines", "int", False),
    ),
    key=("customer_id", "order_id"),
    doc="Maintained per import batch by engine.aggregates; one row per (customer, order) of sales.",
)

CUSTOMER_FACTS = Table(
    "customer_facts",
    (
        _c("customer_id", "text", False),
        _c("first_order", "date", False),
        _c("last_order", "date", False),
        _c("frequency", "int", False, "distinct orders"),
        _c("monetary", "money", False, "net total"),
    ),
    key=("customer_id",),
    doc="Maintained per import batch by engine.aggregates; one row per identified customer over all sales.",
)

AGGREGATE_STATE = Table(
    "aggregate_state",
    (
        _c("name", "text", False),
        _c("fingerprint", "text", False, "of the sales rows the aggregates were built from"),
        _c("refreshed_at", "timestamp", False),
    ),
    key=("name",),
)

CUSTOMER_LIFECYCLE = Table(
    "customer_lifecycle",
    (
        _c("customer_id", "text", False),
        _c("as_of", "date", False),
        _c("stage", "text", False, "new | active | dormant | churned | reactivated"),
        _c("stage_zh", "text", False),
        _c("stage_en", "text", False),
        _c("first_order", "date", False),
        _c("last_order", "date", False),
        _c("purchase_days", "int", False, "distinct days with an order"),
        _c("typical_interval_days", "float", False, "median gap between purchase days"),
        _c("interval_source", "text", False, "own | population (fewer than two purchase days)"),
        _c("active_window_days", "float", False),
        _c("churn_window_days", "float", False),
        _c("next_purchase_due", "date", False, "last order + typical interval"),
        _c("days_overdue", "int", False, "days past next_purchase_due at as_of, 0 when not yet due"),
    ),
    key=("customer_id",),
    doc="Materialised by analyze.",
)

LIFECYCLE_HISTORY = Table(
    "lifecycle_history",
    (
        _c("snapshot_date", "date", False),
        _c("stage", "text", False),
        _c("customers", "int", False),
    ),
    key=("snapshot_date", "stage"),
    doc="Materialised by analyze: customers per lifecycle stage at each monthly snapshot.",
)

COHORT_RETENTION = Table(
    "cohort_retention",
    (
        _c("cohort_month", "date", False, "first day of the month of each customer's first order"),
        _c("period", "int", False, "months since the cohort month (0 = the cohort month)"),
        _c("activity_month", "date", False),
        _c("cohort_customers", "int", False),
        _c("active_customers", "int", False, "cohort customers with an order in activity_month"),
        _c("retention", "float", False, "active_customers / cohort_customers"),
        _c("revenue", "money", False, "net revenue of the cohort in activity_month"),
        _c("revenue_retention", "float", doc="revenue / the cohort's period-0 revenue"),
    ),
    key=("cohort_month", "period"),
    doc="Materialised by analyze: first-purchase-month cohorts, every month up to as_of.",
)

REPURCHASE_INTERVALS = Table(
    "repurchase_intervals",
    (
        _c("scope", "text", False, "all | customer | product | category"),
        _c("key", "text", False, "customer_id, product_id or category; 'all' for scope all"),
        _c("buyers", "int", False, "customers who bought (the customer itself for scope customer)"),
        _c("repeat_buyers", "int", False, "of those, who bought on two or more days"),
        _c("repeat_rate", "float", False),
        _c("intervals", "int", False, "gaps between consecutive purchase days"),
        _c("mean_days", "float"),
        _c("median_days", "float"),
        _c("p25_days", "float"),
        _c("p75_days", "float"),
        _c("p90_days", "float"),
    ),
    key=("scope", "key"),
    doc="Materialised by analyze: repurchase rate and inter-purchase intervals (复购周期).",
)

CUSTOMER_CLV = Table(
    "customer_clv",
    (
        _c("customer_id", "text", False),
        _c("as_of", "date", False, "end of the calibration period"),
        _c("model", "text", False, "bgnbd | pareto | mbgnbd"),
        _c("period", "text", False, "time unit of recency and T: day | week"),
        _c("frequency", "int", False, "repeat purchase days in calibration"),
        _c("recency", "float", False, "first to last purchase, in periods"),
        _c("T", "float", False, "first purchase to as_of, in periods"),
        _c("monetary", "money", doc="mean value of the repeat purchase days; NULL without repeats"),
        _c("p_alive", "float", False),
        _c("p_alive_low", "float"),
        _c("p_alive_high", "float"),
        _c("horizon_months", "int", False),
        _c("expected_purchases", "float", False, "expected repeat purchases over the horizon"),
        _c("expected_purchases_low", "float"),
        _c("expected_purchases_high", "float"),
        _c("expected_spend", "money", doc="Gamma-Gamma expected value per purchase"),
        _c("clv", "money", doc="discounted expected value over the horizon; NULL when spend cannot be modelled"),
        _c("clv_low", "money"),
        _c("clv_high", "money"),
        _c("holdout_actual", "int", doc="repeat purchase days in the holdout period (when one was given)"),
        _c("holdout_predicted", "float"),
        _c("flag", "text", doc="why a value is missing or was replaced, e.g. spend_not_positive"),
    ),
    key=("customer_id",),
    doc="Materialised by `salescope clv` and analyze; intervals are Laplace/delta-method (parameter uncertainty).",
)

CLV_RUNS = Table(
    "clv_runs",
    (
        _c("run_at", "timestamp", False),
        _c("as_of", "date", False),
        _c("model", "text", False),
        _c("period", "text", False),
        _c("status", "text", False, "ok | failed"),
        _c("message", "text", doc="why the run failed, in one sentence"),
        _c("customers", "int"),
        _c("log_likelihood", "float"),
        _c("report", "text", doc="JSON: the `salescope clv --json` result"),
    ),
    key=("run_at",),
    doc="One row per CLV run, including failed fits, so pages can say why CLV is missing.",
)

RULES = Table(
    "rules",
    (
        _c("level", "text", False, "product | category: what the items are"),
        _c("rule_id", "int", False, "1 = highest lift within the level"),
        _c("antecedent", "text", False, "JSON list of product ids (or categories), sorted"),
        _c("consequent", "text", False, "JSON list, one item by default"),
        _c("antecedent_size", "int", False),
        _c("support", "float", False, "share of orders holding every item of the rule"),
        _c("confidence", "float", False),
        _c("lift", "float", False),
        _c("leverage", "float", False),
        _c("conviction", "float", doc="NULL when confidence is 1 (infinite conviction)"),
        _c("support_count", "int", False, "orders holding every item of the rule"),
        _c("antecedent_count", "int", False),
        _c("consequent_count", "int", False),
        _c("orders", "int", False, "orders counted (the support denominator)"),
        _c("as_of", "date", False),
    ),
    key=("level", "rule_id"),
    doc="Materialised by analyze: association rules over orders (关联规则), lift > 1 only.",
)

PRODUCT_ABC = Table(
    "product_abc",
    (
        _c("product_id", "text", False),
        _c("as_of", "date", False),
        _c("revenue", "money", doc="net amount in the window"),
        _c("profit", "money", doc="amount minus cost; NULL cost counts as unknown, not zero"),
        _c("quantity", "decimal"),
        _c("measure", "text", False, "revenue | profit | quantity: what abc_class and the shares rank"),
        _c("rank", "int", False, "1 = largest value of the measure"),
        _c("share", "float", False),
        _c("cum_share", "float", False, "cumulative share of value including this product (Pareto y)"),
        _c("item_cum_share", "float", False, "rank / products (Pareto x)"),
        _c("abc_class", "text", False, "A | B | C on the measure"),
        _c("abc_revenue", "text", False),
        _c("abc_profit", "text", False),
        _c("abc_quantity", "text", False),
        _c("periods", "int", False, "demand periods in the XYZ window"),
        _c("active_periods", "int", False, "periods with non-zero demand"),
        _c("demand_mean", "float"),
        _c("demand_cv", "float", doc="coefficient of variation of per-period quantity; NULL without demand"),
        _c("xyz_class", "text", False, "X | Y | Z"),
        _c("cell", "text", False, "AX .. CZ"),
        _c("advice_zh", "text", False),
        _c("advice_en", "text", False),
    ),
    key=("product_id",),
    doc="Materialised by analyze: ABC-XYZ of products over the trailing window.",
)

CUSTOMER_ABC = Table(
    "customer_abc",
    (
        _c("customer_id", "text", False),
        _c("as_of", "date", False),
        _c("revenue", "money"),
        _c("profit", "money"),
        _c("orders", "int", False),
        _c("measure", "text", False, "revenue | profit: what abc_class and the shares rank"),
        _c("rank", "int", False),
        _c("share", "float", False),
        _c("cum_share", "float", False),
        _c("item_cum_share", "float", False, "rank / customers (Pareto x)"),
        _c("abc_class", "text", False),
        _c("abc_revenue", "text", False),
        _c("abc_profit", "text", False),
        _c("periods", "int", False),
        _c("active_periods", "int", False),
        _c("demand_mean", "float", doc="mean net amount per period"),
        _c("demand_cv", "float", doc="variability of per-period purchase amount; NULL without purchases"),
        _c("xyz_class", "text", False),
        _c("cell", "text", False),
    ),
    key=("customer_id",),
    doc="Materialised by analyze: ABC-XYZ of identified customers over the trailing window.",
)

NEXT_BEST = Table(
    "next_best",
    (
        _c("customer_id", "text", False),
        _c("as_of", "date", False),
        _c("rank", "int", False, "1 = best"),
        _c("product_id", "text", False),
        _c("score", "float", False, "comparable within a customer only"),
        _c("reason", "text", False, "rule | co-occurrence | popular"),
        _c("evidence", "text", doc="JSON list of the customer's products behind the recommendation"),
        _c("confidence", "float", doc="of the best rule, for reason rule"),
        _c("lift", "float", doc="of the best rule, for reason rule"),
    ),
    key=("customer_id", "rank"),
    doc="Materialised by analyze: next best products per customer (下一个最佳产品).",
)

SUPPLIER_SOURCES = Table(
    "supplier_sources",
    (
        _c("source_key", "text", False, "normalised source code or spelling"),
        _c("source_code", "text"),
        _c("source_name", "text"),
        _c("supplier_id", "text", False),
        _c("evidence", "text"),
        _c("score", "float"),
        _c("batch_id", "text"),
    ),
    key=("source_key",),
    doc="Every source spelling/code of a supplier -> supplier_id, with match evidence.",
)

MERGE_LOG = Table(
    "merge_log",
    (
        _c("log_id", "text", False),
        _c("kind", "text", False, "customer | supplier"),
        _c("keep_id", "text", False),
        _c("merged_id", "text", False),
        _c("score", "float", doc="match probability when proposed by the model; NULL for a manual merge"),
        _c("evidence", "text"),
        _c("merged_row", "text", doc="JSON of the merged identity's row, restored by split"),
        _c("merged_at", "timestamp", False),
        _c("merged_by", "text"),
        _c("status", "text", False, "merged | undone"),
        _c("undone_at", "timestamp"),
        _c("undone_by", "text"),
    ),
    key=("log_id",),
    doc="Identity merges, reviewable and reversible.",
)

MERGE_MOVES = Table(
    "merge_moves",
    (
        _c("log_id", "text", False),
        _c("table_name", "text", False),
        _c("key_1", "text", False),
        _c("key_2", "text", doc="second key column (line_no for sales), as text"),
    ),
    key=("log_id", "table_name", "key_1", "key_2"),
    doc="Rows a merge re-pointed from the merged identity to the kept one, so split can move exactly them back.",
)

IDENTITY_TABLES: tuple[Table, ...] = (SUPPLIER_SOURCES, MERGE_LOG, MERGE_MOVES)

DATA_TABLES: tuple[Table, ...] = (
    SALES,
    CUSTOMERS,
    CUSTOMER_SOURCES,
    PRODUCTS,
    PURCHASES,
    SUPPLIERS,
    INVENTORY,
    OPPORTUNITIES,
    FEEDBACK,
    TARGETS,
)
CUSTOMER_CLUSTERS = Table(
    "customer_clusters",
    (
        _c("customer_id", "text", False),
        _c("as_of", "date", False),
        _c("cluster", "int", False, "0 = the highest centroid spend"),
        _c("cluster_zh", "text", False),
        _c("cluster_en", "text", False),
    ),
    key=("customer_id",),
    doc="K-Means cluster per customer, materialised by analyze.",
)

CLUSTER_PROFILES = Table(
    "cluster_profiles",
    (
        _c("cluster", "int", False),
        _c("as_of", "date", False),
        _c("cluster_zh", "text", False),
        _c("cluster_en", "text", False),
        _c("customers", "int", False),
        _c("monetary", "float", doc="centroid: mean spend"),
        _c("frequency", "float"),
        _c("recency_days", "float"),
        _c("tenure_days", "float"),
        _c("avg_order_value", "float"),
        _c("top_category", "text", doc="the category with the largest mean share of spend"),
        _c("k", "int", False),
        _c("silhouette", "float", doc="silhouette of the chosen k on a seeded sample"),
    ),
    key=("cluster",),
)

SYSTEM_TABLES: tuple[Table, ...] = (IMPORT_BATCHES, QUARANTINE, ANALYSIS_RUNS)
RESULT_TABLES: tuple[Table, ...] = (
    CUSTOMER_SCORES,
    SEGMENT_HISTORY,
    KPIS,
    ANOMALIES,
    FORECASTS,
    CUSTOMER_LIFECYCLE,
    LIFECYCLE_HISTORY,
    COHORT_RETENTION,
    REPURCHASE_INTERVALS,
    CUSTOMER_CLV,
    CLV_RUNS,
    RULES,
    PRODUCT_ABC,
    CUSTOMER_ABC,
    NEXT_BEST,
    CUSTOMER_CLUSTERS,
    CLUSTER_PROFILES,
)
AGGREGATE_TABLES: tuple[Table, ...] = (ORDER_FACTS, CUSTOMER_FACTS, AGGREGATE_STATE)
ALL_TABLES: tuple[Table, ...] = DATA_TABLES + SYSTEM_TABLES + RESULT_TABLES + AGGREGATE_TABLES + IDENTITY_TABLES
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in ALL_TABLES}


def create_table_sql(table: Table) -> str:
    cols = []
    for c in table.columns:
        null = "" if c.nullable else " NOT NULL"
        cols.append(f'"{c.name}" {SQL_TYPES[c.type]}{null}')
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" (\n  ' + ",\n  ".join(cols) + "\n)"
