"""Try-on engines behind one small interface, chosen by name from a registry.

An engine takes a person photo and a garment photo (RGB uint8 arrays) and
returns the person wearing the garment at the person photo's size (after the
quality's resize). Engines report progress through the usual callback and say
which stages they have, so the order page and the API can label them.

A new engine is one package that calls :func:`register` at import and is
listed in ``ENGINE_MODULES``; nothing else changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from imaging.errors import PipelineError
from imaging.options import DEFAULT_CATEGORY, DEFAULT_QUALITY
from imaging.progress import ProgressCallback

# The engine packages, imported on first use of the registry (each registers itself).
ENGINE_MODULES = ("imaging.tryon.classical", "imaging.tryon.fashn_vton")

AUTO = "auto"


class EngineUnavailable(Exception):
    """The engine cannot run here (its model files are missing or corrupt, no GPU...)."""


@dataclass(frozen=True)
class TryonRequest:
    person: np.ndarray  # HxWx3 uint8 RGB
    garment: np.ndarray  # HxWx3 uint8 RGB
    category: str = DEFAULT_CATEGORY  # one of imaging.options.CATEGORY_CHOICES
    quality: str = DEFAULT_QUALITY  # one of imaging.options.QUALITY_CHOICES
    seed: int | None = None  # engines that sample use it; the same seed gives the same image


@dataclass
class TryonResult:
    image: np.ndarray  # HxWx3 uint8 RGB
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds, plus "total"
    category: str = ""  # the category the engine used (detected or requested)
    edited_mask: np.ndarray | None = None  # HxW bool: pixels that may differ from the (resized) input
    info: dict[str, object] = field(default_factory=dict)  # engine-specific facts worth keeping with the order


@runtime_checkable
class TryonEngine(Protocol):
    name: str
    # (stage, label) in the order the engine reports them.
    stages: tuple[tuple[str, str], ...]

    def check(self) -> None:
        """Raise :class:`EngineUnavailable` if the engine cannot run in this process."""

    def describe(self) -> dict[str, object]:
        """What /healthz and the benchmarks report about this engine (provider, model files...)."""

    def run(
        self, request: TryonRequest, *, progress: ProgressCallback | None = None, debug_dir: Path | None = None
    ) -> TryonResult:
        """Run the try-on; raise :class:`PipelineError` for failures the user can act on."""


EngineFactory = Callable[[], TryonEngine]
_factories: dict[str, EngineFactory] = {}
_instances: dict[str, TryonEngine] = {}
# Engines in the order `auto` prefers them: the first whose check passes is used.
_preference: list[str] = []


def register(name: str, factory: EngineFactory, *, auto_priority: int = 0) -> None:
    """Make an engine available under ``name``; higher ``auto_priority`` is preferred by ``auto``."""
    _factories[name] = factory
    _instances.pop(name, None)
    priorities = {n: p for n, p in _priorities.items() if n != name}
    priorities[name] = auto_priority
    _priorities.clear()
    _priorities.update(priorities)
    _preference[:] = sorted(_priorities, key=lambda n: -_priorities[n])


_priorities: dict[str, int] = {}
_loaded = False


def _load_engine_modules() -> None:
    global _loaded
    if not _loaded:
        for module in ENGINE_MODULES:
            importlib.import_module(module)
        _loaded = True


def engine_names() -> list[str]:
    _load_engine_modules()
    return list(_factories)


def get_engine(name: str) -> TryonEngine:
    """The process-wide instance of the named engine (not checked: call ``check()`` to know it can run)."""
    _load_engine_modules()
    if name not in _factories:
        raise PipelineError("BAD_ENGINE", f"Unknown try-on engine {name!r}; use {AUTO}, {', '.join(_factories)}.")
    engine = _instances.get(name)
    if engine is None:
        engine = _instances[name] = _factories[name]()
    return engine


def select_engine(setting: str = AUTO) -> TryonEngine:
    """The engine for ``setting``: a name, or ``auto`` for the most preferred engine that can run here.

    A named engine that cannot run raises :class:`EngineUnavailable`; ``auto``
    falls back down the preference list (the classical engine always runs).
    """
    _load_engine_modules()
    if setting != AUTO:
        engine = get_engine(setting)
        engine.check()
        return engine
    reasons = []
    for name in _preference:
        engine = get_engine(name)
        try:
            engine.check()
        except EngineUnavailable as exc:
            reasons.append(f"{name}: {exc}")
            continue
        return engine
    raise EngineUnavailable("no try-on engine can run here: " + "; ".join(reasons))


def reset() -> None:
    """Forget engine instances (settings changed); registrations stay."""
    _instances.clear()
