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
SYSTEM_TABLES: tuple[Table, ...] = (IMPORT_BATCHES, QUARANTINE, ANALYSIS_RUNS)
RESULT_TABLES: tuple[Table, ...] = (CUSTOMER_SCORES, SEGMENT_HISTORY)
ALL_TABLES: tuple[Table, ...] = DATA_TABLES + SYSTEM_TABLES + RESULT_TABLES
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in ALL_TABLES}


def create_table_sql(table: Table) -> str:
    cols = []
    for c in table.columns:
        null = "" if c.nullable else " NOT NULL"
        cols.append(f'"{c.name}" {SQL_TYPES[c.type]}{null}')
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" (\n  ' + ",\n  ".join(cols) + "\n)"
