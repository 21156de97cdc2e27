"""Typed views of the API's JSON, named after the OpenAPI document's schemas.

Each model keeps the JSON it was built from in ``raw``: a field the server adds later is readable
there before this package knows its name, and unknown keys never break parsing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

Style = Literal["virtual_tryon", "product_catalog"]
Quality = Literal["standard", "high"]
Format = Literal["jpg", "png", "webp"]
Category = Literal["auto", "tops", "bottoms", "one-pieces"]
OrderStatus = Literal["pending", "in_progress", "completed", "failed"]

FINISHED: frozenset[str] = frozenset({"completed", "failed"})

M = TypeVar("M", bound="Model")


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Model:
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls: type[M], data: Mapping[str, Any]) -> M:
        values: dict[str, Any] = {"raw": dict(data)}
        for f in dataclasses.fields(cls):
            if f.name != "raw":
                values[f.name] = cls._convert(f.name, data.get(f.name))
        return cls(**values)

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        return value


@dataclass(frozen=True)
class Accepted(Model):
    """202 of POST /generate: the order is created and queued."""

    order_id: int
    status: OrderStatus
    credits_used: int
    message: str
    estimated_time: str
    created_at: datetime
    # Only when the server ignored part of the request (unknown option keys, fields the style does not use).
    warnings: list[str] | None = None

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        return _time(value) if name == "created_at" else value


@dataclass(frozen=True)
class OrderResults(Model):
    """Absolute URLs of a completed order: try-on (person/clothing/result) or catalog (product/images)."""

    person_url: str | None = None
    clothing_url: str | None = None
    result_url: str | None = None
    product_url: str | None = None
    catalog_images: list[str] = field(default_factory=list)
    quantity: int | None = None
    product_description: str | None = None

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        return list(value or []) if name == "catalog_images" else value

    @property
    def outputs(self) -> list[str]:
        """The generated images: the try-on result, or every catalog image."""
        return [self.result_url] if self.result_url else list(self.catalog_images)


@dataclass(frozen=True)
class OrderError(Model):
    """Why a failed order failed, in terms a user can act on."""

    code: str
    message: str


@dataclass(frozen=True)
class Order(Model):
    """GET /orders/{id}. Which optional fields are set depends on ``status``."""

    id: int
    style: Style
    status: OrderStatus
    credits_used: int
    created_at: datetime
    progress: int | None = None
    stage: str | None = None
    estimated_completion: datetime | None = None
    results: OrderResults | None = None
    completed_at: datetime | None = None
    processing_time: int | None = None
    error: OrderError | None = None
    failed_at: datetime | None = None

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        if name in ("created_at", "estimated_completion", "completed_at", "failed_at"):
            return _time(value)
        if name == "results" and isinstance(value, Mapping):
            return OrderResults.from_json(value)
        if name == "error" and isinstance(value, Mapping):
            return OrderError.from_json(value)
        return value

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass(frozen=True)
class Pagination(Model):
    page: int
    page_size: int
    total: int
    next: str | None = None
    previous: str | None = None


@dataclass(frozen=True)
class OrderList(Model):
    """GET /orders: one page of the caller's orders, newest first."""

    orders: list[Order]
    pagination: Pagination

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        if name == "orders":
            return [Order.from_json(item) for item in value or []]
        return Pagination.from_json(value or {})


@dataclass(frozen=True)
class AccountInfo(Model):
    user_id: int
    credits_remaining: int
    api_calls_today: int
    api_calls_total: int
    plan: str


@dataclass(frozen=True)
class RateLimit(Model):
    """The hourly generate budget: from GET /account's ``rate_limit`` or any response's X-RateLimit-* headers."""

    limit: int
    remaining: int
    reset: int  # Unix time the window ends

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        try:
            values = {name: int(headers[f"X-RateLimit-{name.title()}"]) for name in ("limit", "remaining", "reset")}
        except (KeyError, ValueError):
            return None  # e.g. a 401: the server does not know whose budget to report
        return cls(raw=dict(values), **values)


@dataclass(frozen=True)
class WebhookInfo(Model):
    signing_secret: str  # verifies the X-Ftmv-Signature of this account's webhooks


@dataclass(frozen=True)
class Account(Model):
    """GET /account: credits, usage, plan, the generate budget and the webhook signing secret."""

    account: AccountInfo
    rate_limit: RateLimit
    webhook: WebhookInfo | None = None

    @classmethod
    def _convert(cls, name: str, value: Any) -> Any:
        kinds: dict[str, type[Model]] = {"account": AccountInfo, "rate_limit": RateLimit, "webhook": WebhookInfo}
        return kinds[name].from_json(value) if isinstance(value, Mapping) else value


# Schema name -> model, for the contract test against the OpenAPI document.
SCHEMAS: dict[str, type[Model]] = {
    "Accepted": Accepted,
    "Order": Order,
    "OrderResults": OrderResults,
    "OrderError": OrderError,
    "OrderList": OrderList,
    "Pagination": Pagination,
    "Account": Account,
    "AccountInfo": AccountInfo,
    "RateLimit": RateLimit,
    "WebhookInfo": WebhookInfo,
}
