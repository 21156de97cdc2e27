"""The learned try-on engine: FASHN VTON v1.5 (Apache-2.0) exported to ONNX, run with ONNX Runtime.

The operator brings the weights and makes a bundle with ``tools/export_fashn_vton.py``;
this package finds it through :func:`configure` (``bundle_dir``) or, failing
that, the ``FASHN_VTON_DIR`` environment variable. Plain Python: Django's
settings call :func:`configure` once at start-up, the worker calls
``get_engine(NAME).check()`` at start (hashes the bundle once per process) and
/healthz shows ``describe()``.

``auto`` prefers this engine only where ONNX Runtime offers CUDA (its priority
is above the classical engine's then, below it otherwise); a missing or corrupt
bundle makes ``check()`` fail and ``auto`` falls back. Asked for by name, the
engine runs on CPU too (slowly at full size; CI runs the tiny test bundle so).
"""

from __future__ import annotations

import os
from pathlib import Path

from imaging import onnx_runtime
from imaging.tryon.engines import register

from .engine import NAME, FashnVtonEngine

ENV_DIR = "FASHN_VTON_DIR"
PRECISIONS = ("auto", "float32", "float16")
# Above the classical engine (0) where a GPU is offered, below it elsewhere.
PRIORITY_WITH_CUDA = 100
PRIORITY_CPU_ONLY = -10

_bundle_dir: Path | None = None
_precision = "auto"


def bundle_dir() -> Path | None:
    """The configured bundle directory, else ``$FASHN_VTON_DIR``, else None."""
    if _bundle_dir is not None:
        return _bundle_dir
    env = os.environ.get(ENV_DIR, "").strip()
    return Path(env) if env else None


def auto_priority() -> int:
    return PRIORITY_WITH_CUDA if "CUDAExecutionProvider" in onnx_runtime.available_providers() else PRIORITY_CPU_ONLY


def _factory() -> FashnVtonEngine:
    return FashnVtonEngine(bundle_dir(), _precision)


def configure(*, bundle_dir: str | Path | None = None, precision: str | None = None) -> None:
    """Point the engine at a bundle (None: back to ``$FASHN_VTON_DIR``) and pick the generator's precision.

    ``precision``: "auto" (float16 on CUDA when the bundle has it, else float32),
    "float32" or "float16". Forgets the engine instance (and its verdict and
    sessions) and re-reads the providers for ``auto``'s preference: call it after
    ``imaging.onnx_runtime.configure``.
    """
    global _bundle_dir, _precision
    if precision is not None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        _precision = precision
    _bundle_dir = Path(bundle_dir) if bundle_dir else None
    register(NAME, _factory, auto_priority=auto_priority())


register(NAME, _factory, auto_priority=auto_priority())

__all__ = ["ENV_DIR", "NAME", "FashnVtonEngine", "auto_priority", "bundle_dir", "configure"]
