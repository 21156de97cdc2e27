"""Hand-written SQL on hot read paths, still driven by the models' meta.

On the polling paths (API-key lookup, GET /orders/{id}, GET /account) compiling the equivalent ORM
queries costs several times running them; these helpers build the SELECT list and turn rows back into
model instances with the ORM's own value converters, so a migration needs no change here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


class Rows(Generic[M]):
    """The SELECT list of one model's columns, and row -> model instance with the ORM's value converters
    (time zones, JSON, booleans), both prepared once per process. For hand-written SQL on hot read paths;
    the columns follow the model, so a migration needs no change here."""

    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields: list[Field[Any, Any]] = list(model._meta.concrete_fields)
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
                found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)  # type: ignore[attr-defined]  # not in django-stubs
                if found:
                    converters.append((index, column, found))
            self._prepared = (select, converters)
        return self._prepared

    @property
    def select(self) -> str:
        return self._prepare()[0]

    def _field(self, name: str) -> Field[Any, Any]:
        field = self.model._meta.get_field(name)
        assert isinstance(field, Field), f"{name} is not a concrete field"
        return field

    def column(self, name: str) -> str:
        """``alias.column`` of a field, quoted, for WHERE and JOIN clauses."""
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return f"{quote(self.alias)}.{quote(self._field(name).column)}"

    def position(self, name: str) -> int:
        """Where a field's value sits among this model's columns."""
        return self.fields.index(self._field(name))

    def load(self, row: Sequence, start: int = 0) -> M:
        """The instance from ``row[start:start + width]``."""
        values = list(row[start : start + self.width])
        connection = connections[DEFAULT_DB_ALIAS]
        for index, column, converters in self._prepare()[1]:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)


def table(model: type[Model]) -> str:
    return connections[DEFAULT_DB_ALIAS].ops.quote_name(model._meta.db_table)
