"""The architecture, checked: every import in the project, parsed (not executed) from the source.

- No import cycle between modules, nor between packages at any depth (``tryon`` <-> ``billing``,
  ``imaging.tryon`` <-> ``imaging.catalog``...). Every import counts: at module level, inside a function
  (a "lazy" import hides a cycle, it does not break it) and under ``if TYPE_CHECKING``.
- Imports only go down the layers below: a package imports packages of lower layers only, never one of
  its own layer or above.
- ``imaging`` (the pipelines) imports neither Django, nor Celery, nor any part of the web service.
- ``ftmv``, the project package, is configuration only.

The last tests show that the checks fail: they feed the same analysis temporary files with a cycle, an
upward import and a Django import.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from tests.source import parse_source

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", ".git", "node_modules", "migrations", "var", "artifacts", "__pycache__", ".ruff_cache"}

# Top-level packages from the top down. A package may import packages of lower layers only; packages
# sharing a layer are independent of each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("tests",),  # the suite: may use anything
    ("bench", "tools", "manage", "gunicorn"),  # programs run from the command line; gunicorn.conf.py
    ("ftmv",),  # configuration: settings, URLs, the Celery app
    ("api", "web"),  # the two front doors
    ("accounts", "tryon", "catalog"),  # users and keys; the order domain; the catalog command
    ("billing",),  # the credit ledger
    ("core",),  # infrastructure: heartbeats, /healthz, security headers, SQL helpers
    ("imaging",),  # the pipelines: plain Python
)
# What the pipelines must never import, beside the web service's own packages.
IMAGING_FORBIDDEN = {"django", "celery", "kombu", "rest_framework", "drf_spectacular", "allauth", "stripe"}


def project_files(root: Path) -> dict[str, Path]:
    """Module name -> file, for every .py under ``root`` (migrations are generated; they are left out)."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIPPED_DIRS.intersection(relative.parts[:-1]):
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts:
            modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """Every module ``name`` (at ``path``) imports, resolved to the project's modules where it names one,
    and to the first component otherwise (``django``, ``numpy``...)."""
    known = set(known)
    is_package = path.name == "__init__.py"
    package = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()

    def resolve(dotted: str) -> str:
        # The longest prefix that is a module of the project (``from x import y`` may name a function).
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in known:
                return candidate
        return parts[0]

    for node in ast.walk(parse_source(path)):
        if isinstance(node, ast.Import):
            found.update(resolve(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                found.add(resolve(f"{module}.{alias.name}" if module else alias.name))
    found.discard(name)
    return found


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    return {name: {m for m in imports_of(name, path, modules) if m in modules} for name, path in modules.items()}


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan): each is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def collapse(graph: Mapping[str, Iterable[str]], depth: int) -> dict[str, set[str]]:
    """The graph between packages: each module stands for its first ``depth`` name components."""
    packages: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        source_package = ".".join(source.split(".")[:depth])
        packages[source_package]  # noqa: B018 - every package is a node, importing or not
        for target in targets:
            target_package = ".".join(target.split(".")[:depth])
            if target_package != source_package:
                packages[source_package].add(target_package)
    return packages


def cycle_report(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Every cycle between modules and between packages at every depth, with the imports that make it."""
    problems = []
    deepest = max((name.count(".") + 1 for name in graph), default=1)
    for depth in range(1, deepest + 1):
        for component in cycles(collapse(graph, depth)):
            members = set(component)
            edges = sorted(
                f"{source} -> {target}"
                for source, targets in graph.items()
                for target in targets
                if ".".join(source.split(".")[:depth]) in members
                and ".".join(target.split(".")[:depth]) in members
                and ".".join(source.split(".")[:depth]) != ".".join(target.split(".")[:depth])
            )
            problems.append(f"cycle between {', '.join(component)}: {'; '.join(edges)}")
    return sorted(set(problems))


def layer_report(graph: Mapping[str, Iterable[str]], layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    """Imports of a package of the same layer or of one above."""
    rank = {package: number for number, layer in enumerate(layers) for package in layer}
    problems = []
    for source, targets in graph.items():
        source_top = source.split(".")[0]
        for target in targets:
            target_top = target.split(".")[0]
            if target_top == source_top:
                continue
            if source_top not in rank or target_top not in rank:
                problems.append(f"{source} -> {target}: {source_top} or {target_top} has no layer in LAYERS")
            elif rank[target_top] <= rank[source_top]:
                kind = "sideways" if rank[target_top] == rank[source_top] else "upward"
                problems.append(f"{source} -> {target}: {kind} import ({source_top} may not import {target_top})")
    return sorted(problems)


def imaging_report(modules: Mapping[str, Path], package: str = "imaging") -> list[str]:
    """Imports in the pipelines of Django, Celery and the like, or of any other part of the project."""
    project = {name.split(".")[0] for name in modules} - {package}
    problems = []
    for name, path in modules.items():
        if name.split(".")[0] != package:
            continue
        for target in sorted(imports_of(name, path, modules)):
            top = target.split(".")[0]
            if top in IMAGING_FORBIDDEN or top in project:
                problems.append(f"{name} imports {target}")
    return problems


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    return project_files(ROOT)


@pytest.fixture(scope="module")
def graph(modules) -> dict[str, set[str]]:
    return import_graph(modules)


def test_the_analysis_sees_the_whole_project(modules, graph):
    # A parser that silently found nothing would pass everything: it must see the known imports.
    for package in ("ftmv", "core", "accounts", "billing", "tryon", "catalog", "api", "web", "imaging"):
        assert any(name.split(".")[0] == package for name in modules), package
    assert "tryon.services" in graph["api.views"]
    assert "billing.services" in graph["tryon.services"]
    assert "tryon.lifecycle" in graph["tryon.tasks"]
    assert "imaging.tryon.engines" in graph["tryon.dispatch"]


def test_the_project_package_is_configuration_only(modules):
    # Settings, URLs, the Celery app, the WSGI/ASGI entry points; anything else belongs to an app.
    assert sorted(name for name in modules if name.split(".")[0] == "ftmv") == [
        "ftmv",
        "ftmv.asgi",
        "ftmv.celery",
        "ftmv.settings",
        "ftmv.urls",
        "ftmv.wsgi",
    ]


def test_no_import_cycles(graph):
    assert cycle_report(graph) == []


def test_imports_only_go_down_the_layers(graph):
    assert layer_report(graph) == []


def test_imaging_imports_no_framework_and_no_other_part(modules):
    assert imaging_report(modules) == []


# --- the checks fail when they should -------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return project_files(root)


def with_real_project(modules: Mapping[str, Path], extra: Mapping[str, Path]) -> dict[str, set[str]]:
    """The project's graph with temporary modules added, as if they were files of the project."""
    combined = {**modules, **extra}
    return import_graph(combined)


def test_a_cycle_through_a_temporary_file_is_caught(tmp_path, modules):
    # The order domain uses the ledger (tryon.services -> billing.services); a billing module that reaches
    # back into the order domain, even lazily inside a function, closes a cycle between the two apps.
    extra = write(tmp_path, {"billing/_probe.py": "def refund_all():\n    from tryon.services import order_submit\n"})
    graph = with_real_project(modules, {"billing._probe": extra["billing._probe"]})
    report = cycle_report(graph)
    assert len(report) == 1, report
    assert report[0].startswith("cycle between billing, tryon: ")
    assert "billing._probe -> tryon.services" in report[0] and "tryon.services -> billing.services" in report[0]


def test_a_module_cycle_between_two_files_is_caught(tmp_path):
    files = write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from .b import x\n", "pkg/b.py": "import pkg.a\n"})
    report = cycle_report(import_graph(files))
    assert report == ["cycle between pkg.a, pkg.b: pkg.a -> pkg.b; pkg.b -> pkg.a"]


def test_a_package_cycle_is_caught_even_without_a_module_cycle(tmp_path):
    # No module imports one that imports it back, yet accounts and billing depend on each other.
    files = write(
        tmp_path,
        {
            "accounts/__init__.py": "",
            "accounts/admin.py": "from billing.models import Entry\n",
            "accounts/models.py": "",
            "billing/__init__.py": "",
            "billing/models.py": "",
            "billing/services.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from accounts.models import User\n"
            ),
        },
    )
    graph = import_graph(files)
    assert cycles(graph) == []
    assert cycle_report(graph) == [
        "cycle between accounts, billing: accounts.admin -> billing.models; billing.services -> accounts.models"
    ]


def test_an_upward_import_is_caught(tmp_path, modules):
    extra = write(tmp_path, {"billing/_probe.py": "from tryon.models import Order\n"})
    graph = with_real_project(modules, {"billing._probe": extra["billing._probe"]})
    assert layer_report(graph) == [
        "billing._probe -> tryon.models: upward import (billing may not import tryon)",
    ]


def test_a_sideways_import_is_caught(tmp_path, modules):
    extra = write(tmp_path, {"web/_probe.py": "def view():\n    from api.views import GenerateView\n"})
    graph = with_real_project(modules, {"web._probe": extra["web._probe"]})
    assert layer_report(graph) == ["web._probe -> api.views: sideways import (web may not import api)"]


def test_imaging_importing_django_or_the_service_is_caught(tmp_path, modules):
    extra = write(
        tmp_path,
        {
            "imaging/_probe.py": (
                "from django.conf import settings\nimport celery\n\ndef f():\n    from tryon.models import Order\n"
            )
        },
    )
    combined = {**modules, "imaging._probe": extra["imaging._probe"]}
    assert imaging_report(combined) == [
        "imaging._probe imports celery",
        "imaging._probe imports django",
        "imaging._probe imports tryon.models",
    ]
