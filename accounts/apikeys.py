"""API keys: their format, their keyed hash, and the lookup every authenticated API call makes.

The lookup is hand-written SQL run through `Rows`: on the polling paths the ORM's query compilation costs
several times the query itself. A successful lookup is then remembered in this process for at most
KEY_CACHE_SECONDS (on PostgreSQL the database round trip was a third of a poll's cost). Revocation stays
prompt: saving or deleting an ApiKey or a User (apikey_revoke, the settings page, the admin, deactivation)
drops the remembered entries in the process that did it at once, through the signals below; other
processes (the other web workers, a shell) refuse the key at the latest KEY_CACHE_SECONDS later. A
queryset .update() sends no signal: it too is seen at the latest KEY_CACHE_SECONDS later.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import string
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from core.sql import Rows, table

from .models import ApiKey, User

KEY_PREFIX = "ftmv_"
KEY_LENGTH = 64
LOOKUP_LENGTH = len(KEY_PREFIX) + 8
ALPHABET = string.ascii_letters + string.digits
# last_used_at is informational: writing it on every poll would cost a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(raw_key: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), raw_key.encode(), hashlib.sha256).hexdigest()


_KEY_ROWS = Rows(ApiKey, "k")
_USER_ROWS = Rows(User, "u")


@functools.cache
def _key_sql() -> str:
    # Identifiers come from the models' meta; the only value is passed as a parameter.
    return (
        f"SELECT {_KEY_ROWS.select}, {_USER_ROWS.select} FROM {table(ApiKey)} {_KEY_ROWS.alias} "  # noqa: S608
        f"INNER JOIN {table(User)} {_USER_ROWS.alias} ON {_USER_ROWS.column('id')} = {_KEY_ROWS.column('user')} "
        f"WHERE {_KEY_ROWS.column('prefix')} = %s AND {_KEY_ROWS.column('revoked_at')} IS NULL"
    )


KEY_CACHE_SECONDS = 5.0
_KEY_CACHE_MAX = 10_000
_key_cache: dict[str, tuple[ApiKey, float]] = {}  # keyed hash -> (key with its user, monotonic time)
_key_cache_lock = threading.Lock()
_forgotten = [0]  # bumped by every forget: a lookup that raced with a revocation is not remembered


def forget_cached_keys(*, key_id: int | None = None, user_id: int | None = None) -> None:
    """Drop remembered lookups: of one key, of one user's keys, or (no argument) all of them."""
    with _key_cache_lock:
        _forgotten[0] += 1
        if key_id is None and user_id is None:
            _key_cache.clear()
            return
        for digest, (key, _) in list(_key_cache.items()):
            if key.pk == key_id or key.user_id == user_id:
                del _key_cache[digest]


def _forget_key(sender, instance: ApiKey, **kwargs) -> None:
    forget_cached_keys(key_id=instance.pk)


def _forget_user(sender, instance: User, **kwargs) -> None:
    forget_cached_keys(user_id=instance.pk)


for _signal in (post_save, post_delete):
    _signal.connect(_forget_key, sender=ApiKey, dispatch_uid=f"apikey-cache-key-{_signal is post_save}")
    _signal.connect(_forget_user, sender=User, dispatch_uid=f"apikey-cache-user-{_signal is post_save}")


def find_api_key(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key``, with its active user loaded, or None.

    Prefix lookup, keyed hash compared in constant time, not revoked, user active, last_used_at written
    at most once per LAST_USED_RESOLUTION, in one precompiled query, remembered for KEY_CACHE_SECONDS
    (see the module's docstring). Each call gets its own copies of the key and user, so a caller changing
    them changes nothing shared."""
    if len(raw_key) != KEY_LENGTH or not raw_key.startswith(KEY_PREFIX):
        return None
    digest = hash_key(raw_key)
    cached = _key_cache.get(digest)
    if cached is not None and time.monotonic() - cached[1] < KEY_CACHE_SECONDS:
        hit = copy.copy(cached[0])
        hit.user = copy.copy(cached[0].user)
        _touch(hit)
        return hit
    generation = _forgotten[0]
    found = _lookup(raw_key, digest)
    if found is not None:
        _touch(found)
        remembered = copy.copy(found)
        remembered.user = copy.copy(found.user)
        with _key_cache_lock:
            if len(_key_cache) >= _KEY_CACHE_MAX:
                _key_cache.clear()
            if _forgotten[0] == generation:
                _key_cache[digest] = (remembered, time.monotonic())
    return found


def _touch(key: ApiKey) -> None:
    """last_used_at, written at most once per LAST_USED_RESOLUTION (remembered copies included)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
        cached = _key_cache.get(key.hashed_key)  # the stored hash is the cache key
        if cached is not None:
            cached[0].last_used_at = now


def _lookup(raw_key: str, digest: str) -> ApiKey | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_key_sql(), [raw_key[:LOOKUP_LENGTH]])
        rows = cursor.fetchall()
    found: ApiKey | None = None
    for row in rows:
        key = _KEY_ROWS.load(row)
        # Constant-time: the time taken does not tell how much of the hash matched.
        if hmac.compare_digest(key.hashed_key, digest):
            found = key
            found.user = _USER_ROWS.load(row, _KEY_ROWS.width)
    if found is None or not found.user.is_active:
        return None
    return found
