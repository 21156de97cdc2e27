"""The source parser of the import-rule tests falls back to a fresh interpreter when ast.parse fails
with CPython's spurious SystemError, and returns the same tree."""

from __future__ import annotations

import ast

import pytest

from tests import source
from tests.conftest import ROOT


def test_a_spurious_system_error_is_answered_by_a_fresh_interpreter(monkeypatch):
    path = ROOT / "imaging" / "stages.py"
    expected = ast.dump(ast.parse(path.read_text(encoding="utf-8")))

    def broken(*args, **kwargs):
        raise SystemError("AST constructor recursion depth mismatch (before=132, after=219)")

    monkeypatch.setattr(source.ast, "parse", broken)
    assert ast.dump(source.parse_source(path)) == expected


def test_a_real_syntax_error_still_fails(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n")
    with pytest.raises(SyntaxError):
        source.parse_source(bad)
