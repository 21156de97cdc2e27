"""Atomic shared counters on the database (core.models.Counter), for installs without Redis.

One statement per change: an upsert that adds ``delta`` (or starts again from ``delta`` when the row
expired) and returns the new value, so any number of processes counting at once never lose a count.
Expired rows are deleted by the heartbeat task.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.db import connection

from .models import Counter

_TABLE = Counter._meta.db_table


def counter_add(key: str, delta: int, ttl: float) -> int:
    now = time.time()
    q = connection.ops.quote_name
    table, k, v, e = q(_TABLE), q("key"), q("value"), q("expires_at")
    # Quoted identifiers from the model; every value is a parameter.
    sql = (
        f"INSERT INTO {table} ({k}, {v}, {e}) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({k}) DO UPDATE SET "
        f"{v} = CASE WHEN {table}.{e} < %s THEN excluded.{v} ELSE {table}.{v} + excluded.{v} END, "
        f"{e} = CASE WHEN {table}.{e} < %s THEN excluded.{e} ELSE {table}.{e} END "
        f"RETURNING {v}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, delta, now + ttl, now, now])
        row = cursor.fetchone()
    return int(row[0])


def counters_get(keys: Iterable[str]) -> dict[str, int]:
    keys = list(keys)
    rows = Counter.objects.filter(key__in=keys, expires_at__gte=time.time()).values_list("key", "value")
    return {key: int(value) for key, value in rows}


def counters_purge() -> int:
    deleted, _ = Counter.objects.filter(expires_at__lt=time.time()).delete()
    return deleted
