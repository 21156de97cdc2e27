"""Parsing the project's source in tests that read it (import rules), robust to one CPython 3.11 bug."""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys
from pathlib import Path

_PARSE_ELSEWHERE = (
    "import ast, pickle, sys\n"
    "path = sys.argv[1]\n"
    "sys.stdout.buffer.write(pickle.dumps(ast.parse(open(path, encoding='utf-8').read(), path)))\n"
)


def parse_source(path: Path) -> ast.Module:
    """``ast.parse`` of a project file.

    CPython 3.11's AST converter can lose count of its recursion depth and fail a valid file with
    "AST constructor recursion depth mismatch" (python/cpython gh-106905, seen rarely in processes that run
    threads, as this suite does with its live servers; it failed once in a full run here). Then the file
    is parsed in a fresh interpreter and its tree sent back with pickle; any other error still fails.
    """
    source = path.read_text(encoding="utf-8")
    try:
        return ast.parse(source, str(path))
    except SystemError:
        done = subprocess.run(
            [sys.executable, "-c", _PARSE_ELSEWHERE, str(path)], capture_output=True, check=True, timeout=60
        )
        tree = pickle.loads(done.stdout)  # noqa: S301 - our own child process's output
        assert isinstance(tree, ast.Module)
        return tree
