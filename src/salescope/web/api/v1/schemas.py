"""Response models of ``/api/v1``: they give the OpenAPI document its shapes.

Money is stored exactly in the warehouse and sent as a JSON number (the nearest
double to the 4-decimal amount), which every client can read without a decimal type.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(BaseModel):
    ok: bool = False
    status: int
    error: str
    errors: list[Any] = []


class Me(Model):
    username: str
    role: str
    salesperson: str | None


class Kpis(Model):
    revenue: float
    orders: int
    customers: int
    avg_order_value: float | None
    repurchase_rate: float | None


class MonthRevenue(Model):
    month: str
    revenue: float
    orders: int


class SegmentCount(Model):
    segment: str
    segment_zh: str
    segment_en: str
    customers: int
    monetary: float


class Overview(Model):
    kpis: Kpis
    months: list[MonthRevenue]
    segments: list[SegmentCount]
    analysed: bool
    as_of: date | None
    first_date: date | None
    last_date: date | None


class Customer(Model):
    customer_id: str
    name: str | None
    salesperson: str | None
    segment: str | None
    segment_zh: str | None
    segment_en: str | None
    recency_days: int | None
    frequency: int | None
    monetary: float | None
    rfm_code: str | None


class CustomerList(Model):
    items: list[Customer]
    total: int
    limit: int
    offset: int


class Order(Model):
    order_id: str
    order_date: date
    lines: int
    amount: float


class CustomerDetail(Customer):
    profile: dict[str, Any]
    scores: dict[str, Any]
    orders: list[Order]
    orders_total: int
    revenue: float


class User(Model):
    id: int
    username: str
    role: str
    salesperson: str | None
    created_at: str
    active: bool


class UserList(Model):
    items: list[User]
    total: int


class AuditEntry(Model):
    id: int
    at: str
    username: str | None
    action: str
    detail: str | None
    address: str | None
    success: bool


class AuditList(Model):
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int
