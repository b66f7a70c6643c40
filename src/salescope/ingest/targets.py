"""Per kind: which warehouse table a file feeds, its natural key, and each column as SQL over a staged row.

Pure builders: the warehouse (``engine.loading``) runs them. Identity ids come from
temp tables the import service fills (``ids`` for customers, ``sup`` for suppliers);
product ids are the source's code, else an existing product of the same name, else a
stable id derived from the name, else ``UNKNOWN``.
"""

from __future__ import annotations

from salescope.engine.loading import FactLoad, lit, q
from salescope.ingest.mapping import ColumnMap
from salescope.schema.tables import SQL_TYPES, TABLES_BY_NAME

UNKNOWN_PRODUCT = "UNKNOWN"
UNKNOWN_PRODUCT_NAME = "未知产品 Unknown product"

FACT_KINDS = ("sales", "purchases", "inventory", "opportunities", "feedback", "targets")
MASTER_KINDS = ("customers", "products", "suppliers")
CUSTOMER_KINDS = ("sales", "opportunities", "feedback", "customers")

TABLE_OF = {
    "sales": "sales",
    "purchases": "purchases",
    "inventory": "inventory",
    "opportunities": "opportunities",
    "feedback": "feedback",
    "targets": "targets",
    "customers": "customers",
    "products": "products",
    "suppliers": "suppliers",
}

# Staged identity fields -> the record columns identity resolution reads.
CUSTOMER_RECORD = {
    "customer_code": "code",
    "customer_name": "name",
    "phone": "phone",
    "email": "email",
    "address": "address",
    "city": "city",
    "province": "province",
    "tax_id": "tax_id",
}
SUPPLIER_RECORD = {"supplier_code": "code", "supplier_name": "name"}


def product_id_sql(staged: set[str], alias: str = "s", names: str = "pn") -> str:
    """The product id of a staged row (see the module docstring)."""
    parts = []
    if "product_code" in staged:
        parts.append(f"{alias}.product_code")
    if "product_name" in staged:
        parts.append(f"{names}.product_id")
        name = f"{alias}.product_name"
        parts.append(f"CASE WHEN {name} IS NOT NULL THEN 'P-' || substr(md5(lower({name})), 1, 10) END")
    parts.append(lit(UNKNOWN_PRODUCT))
    return f"coalesce({', '.join(parts)})" if len(parts) > 1 else parts[0]


def product_join(staged: set[str], names_table: str, alias: str = "s", names: str = "pn") -> str:
    if "product_name" not in staged:
        return ""
    return f" LEFT JOIN {q(names_table)} {names} ON {names}.key = lower({alias}.product_name)"


def identity_join(record: dict[str, str], staged: set[str], ids_table: str, alias: str, id_alias: str) -> str:
    used = [(f, r) for f, r in record.items() if f in staged]
    if not used:
        return ""
    on = " AND ".join(f"{id_alias}.{q(r)} IS NOT DISTINCT FROM {alias}.{q(f)}" for f, r in used)
    return f" LEFT JOIN {q(ids_table)} {id_alias} ON {on}"


def fact_load(
    cmap: ColumnMap,
    staged: set[str],
    *,
    customer_ids: str | None = None,
    supplier_ids: str | None = None,
    product_names: str | None = None,
) -> FactLoad:
    """The load spec for a fact kind, given which fields the staged table has."""
    kind = cmap.kind
    table = TABLES_BY_NAME[TABLE_OF[kind]]
    exprs: dict[str, str] = {}
    joins = ""
    for col in table.column_names:
        if col in ("batch_id", "source_row"):
            continue
        if col in staged:
            exprs[col] = f"s.{q(col)}"
        else:
            exprs[col] = "NULL"
    if "customer_id" in table.column_names:
        if customer_ids and any(f in staged for f in CUSTOMER_RECORD):
            joins += identity_join(CUSTOMER_RECORD, staged, customer_ids, "s", "ci")
            exprs["customer_id"] = "ci.customer_id"
        else:
            exprs["customer_id"] = "CAST(NULL AS VARCHAR)"
    if "supplier_id" in table.column_names:
        if supplier_ids and any(f in staged for f in SUPPLIER_RECORD):
            joins += identity_join(SUPPLIER_RECORD, staged, supplier_ids, "s", "si")
            exprs["supplier_id"] = "si.customer_id"
        else:
            exprs["supplier_id"] = "CAST(NULL AS VARCHAR)"
    if "product_id" in table.column_names:
        has_product = "product_code" in staged or "product_name" in staged
        if kind == "opportunities" and not has_product:
            exprs["product_id"] = "CAST(NULL AS VARCHAR)"
        else:
            exprs["product_id"] = product_id_sql(staged)
            if product_names:
                joins += product_join(staged, product_names)
    if kind == "inventory":
        exprs["warehouse"] = "coalesce(s.warehouse, '')" if "warehouse" in staged else "''"
    # Typed like the target, so a column the file lacks still compares with the stored rows.
    for c in table.columns:
        if c.name in exprs:
            exprs[c.name] = f"CAST({exprs[c.name]} AS {SQL_TYPES[c.type]})"
    # What a new product row needs, carried alongside (not part of the target table).
    for carried in ("product_name", "category", "subcategory", "customer_name", "supplier_name"):
        if carried in staged:
            exprs[f"_{carried}"] = f"s.{q(carried)}"
    if "unit_price" in staged and kind == "sales":
        exprs["_unit_price"] = "s.unit_price"
    key = table.key
    line_of = {"sales": "order_id", "purchases": "po_id"}.get(kind)
    extra: tuple[str, ...] = ()
    if line_of and not cmap.has("line_no"):
        extra = ("line_no",)
    raw_fields = tuple((cmap.header_of(f), f) for f in cmap.fields if f in staged)
    return FactLoad(
        table=table.name,
        key=key,
        exprs=exprs,
        joins=joins,
        line_of=line_of,
        raw_fields=raw_fields,
        raw_extra=extra,
    )
