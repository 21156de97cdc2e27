"""Reads of orders, for their owner only (tenant data is reached through the owner).

The polling reads (GET /orders/{id}, GET /account) run hand-written SQL through core.sql.Rows:
compiling the equivalent ORM queries costs several times running them. Everything is still read fresh.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, time

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model

from billing.models import CreditBalance
from core.sql import Rows, table

from .models import Order, OrderFile, OrderQuerySet


def orders_of(user, *, style: str = "", status: str = "") -> OrderQuerySet:
    """The user's orders, newest first, optionally of one style and one status."""
    orders = Order.objects.for_user(user)
    if style:
        orders = orders.filter(style=style)
    if status:
        orders = orders.filter(status=status)
    return orders


def order_of(user, pk: int) -> Order | None:
    """The user's order with its files prefetched, or None (another user's id is simply not found)."""
    return Order.objects.for_user(user).prefetch_related("files").filter(pk=pk).first()


_ORDER_ROWS = Rows(Order, "o")
_FILE_ROWS = Rows(OrderFile, "f")


@functools.cache
def _order_sql() -> str:
    # One round trip: the order, joined to its files only when it is completed (one row per file, or one
    # row with NULL file columns). Identifiers come from the models' meta; values are parameters.
    o, f = _ORDER_ROWS.column, _FILE_ROWS.column
    return (
        f"SELECT {_ORDER_ROWS.select}, {_FILE_ROWS.select} FROM {table(Order)} {_ORDER_ROWS.alias} "  # noqa: S608
        f"LEFT JOIN {table(OrderFile)} {_FILE_ROWS.alias} ON {f('order')} = {o('id')} AND {o('status')} = %s "
        f"WHERE {o('id')} = %s AND {o('user')} = %s ORDER BY {f('role')}, {f('position')}"
    )


def find_order(user_id: int, order_id: int) -> tuple[Order | None, list[OrderFile]]:
    """The user's order and, once completed, its files (in OrderFile's Meta ordering)."""
    if order_id >= 2**63:  # larger ids cannot exist (and overflow the database's integer)
        return None, []
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_order_sql(), [Order.Status.COMPLETED.value, order_id, user_id])
        rows = cursor.fetchall()
    if not rows:
        return None, []
    order = _ORDER_ROWS.load(rows[0])
    file_pk = _ORDER_ROWS.width + _FILE_ROWS.position("id")  # NULL: no file joined
    files = [_FILE_ROWS.load(row, _ORDER_ROWS.width) for row in rows if row[file_pk] is not None]
    return order, files


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field.column


@functools.cache
def _account_sql() -> str:
    # The balance as billing.services.credits_balance reads it, and the order counts, in one round trip.
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    balance, owner = (quote(_column(CreditBalance, name)) for name in ("balance", "user"))
    return (
        f"SELECT (SELECT {balance} FROM {table(CreditBalance)} WHERE {owner} = %s), "  # noqa: S608
        f"COUNT(*), COALESCE(SUM(CASE WHEN {_ORDER_ROWS.column('created_at')} >= %s THEN 1 ELSE 0 END), 0) "
        f"FROM {table(Order)} {_ORDER_ROWS.alias} "
        f"WHERE {_ORDER_ROWS.column('user')} = %s"
    )


def account_counts(user_id: int) -> tuple[int, int, int]:
    """(credits balance, orders created since midnight UTC, orders in all): both doors, as both count
    against the same generate limits; the dashboard and GET /account show these same numbers."""
    connection = connections[DEFAULT_DB_ALIAS]
    midnight = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(_account_sql(), [user_id, connection.ops.adapt_datetimefield_value(midnight), user_id])
        balance, total, today = cursor.fetchone()
    return balance or 0, int(today), int(total)
