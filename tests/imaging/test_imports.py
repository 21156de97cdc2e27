"""The imaging package stands alone: no Django, Celery or web-app import, and no import cycle between its modules.

Read from the source (every import statement, those inside functions too), not by importing it.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

from tests.source import parse_source

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "imaging"
# The web side: the Django project and apps, and what only they may use.
FORBIDDEN = {"django", "rest_framework", "celery", "kombu", "ftmv", "accounts", "billing", "tryon", "catalog", "core"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(parse_source(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # "from package import module" imports the module too.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_web_side_import(name):
    roots = {imported.split(".")[0] for imported in imports_of(MODULES[name])}
    assert not roots & FORBIDDEN, f"{name} imports {sorted(roots & FORBIDDEN)}"


def test_no_import_cycle_between_imaging_modules():
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges = set()
        for imported in imports_of(path):
            # Importing a.b.c runs a/__init__ and a/b/__init__ first: those count, except the
            # importer's own packages (already being imported when it runs).
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                if target in MODULES and target != name and not name.startswith(target + "."):
                    edges.add(target)
        graph[name] = edges
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_modules_imported_by_name_exist():
    """``importlib.import_module("imaging....")`` with a literal name: the module must exist (a moved
    module otherwise fails only when that code path runs)."""
    missing = []
    for name, path in MODULES.items():
        for node in ast.walk(parse_source(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and str(node.args[0].value).startswith("imaging")
                and node.args[0].value not in MODULES
            ):
                missing.append(f"{name} imports {node.args[0].value}")
    assert not missing
