"""DRF authentication: `Authorization: Bearer <api key>`.

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
import hmac
import threading
import time
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .models import ApiKey, User
from .services import KEY_LENGTH, KEY_PREFIX, LAST_USED_RESOLUTION, LOOKUP_LENGTH, _hash_key


class Rows:
    """The SELECT list of one model's columns, and row -> model instance with the ORM's value converters
    (time zones, JSON, booleans), both prepared once per process. For hand-written SQL on hot read paths;
    the columns follow the model, so a migration needs no change here."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.width = len(self.fields)
        self._prepared: tuple[str, list] | None = None

    def _prepare(self) -> tuple[str, list]:
        if self._prepared is None:
            connection = connections[DEFAULT_DB_ALIAS]
            quote = connection.ops.quote_name
            select = ", ".join(f"{quote(self.alias)}.{quote(f.column)}" for f in self.fields)
            converters = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
                if found:
                    converters.append((index, column, found))
            self._prepared = (select, converters)
        return self._prepared

    @property
    def select(self) -> str:
        return self._prepare()[0]

    def column(self, name: str) -> str:
        """``alias.column`` of a field, quoted, for WHERE and JOIN clauses."""
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return f"{quote(self.alias)}.{quote(self.model._meta.get_field(name).column)}"

    def position(self, name: str) -> int:
        """Where a field's value sits among this model's columns."""
        return self.fields.index(self.model._meta.get_field(name))

    def load(self, row: Sequence, start: int = 0) -> Model:
        """The instance from ``row[start:start + width]``."""
        values = list(row[start : start + self.width])
        connection = connections[DEFAULT_DB_ALIAS]
        for index, column, converters in self._prepare()[1]:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)


def table(model: type[Model]) -> str:
    return connections[DEFAULT_DB_ALIAS].ops.quote_name(model._meta.db_table)


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
    digest = _hash_key(raw_key)
    cached = _key_cache.get(digest)
    if cached is not None and time.monotonic() - cached[1] < KEY_CACHE_SECONDS:
        found = copy.copy(cached[0])
        found.user = copy.copy(cached[0].user)
        _touch(found)
        return found
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
    found = None
    for row in rows:
        key = _KEY_ROWS.load(row)
        # Constant-time: the time taken does not tell how much of the hash matched.
        if hmac.compare_digest(key.hashed_key, digest):
            found = key
            found.user = _USER_ROWS.load(row, _KEY_ROWS.width)
    if found is None or not found.user.is_active:
        return None
    return found


class ApiKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts:
            raise exceptions.NotAuthenticated("Send your API key as 'Authorization: Bearer <key>'.")
        if parts[0].lower() != self.keyword or len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <key>'.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        key = find_api_key(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return key.user, key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when authentication fails.
        return 'Bearer realm="api"'
