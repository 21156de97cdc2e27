"""One ONNX Runtime layer shared by every pipeline.

Plain Python (no Django import): the pipelines, their tests and the benchmarks
use it directly; Django settings call :func:`configure` once at start-up.

Sessions are created lazily, once per process, and reused: building a session
costs 50-300 ms, running one costs a few ms. Celery's prefork workers fork
before the first task, so each worker process builds its own sessions (ONNX
Runtime sessions must not be shared across a fork).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import onnxruntime as ort

log = logging.getLogger(__name__)

MODELS_DIR = Path(os.environ.get("FTMV_MODELS_DIR", Path(__file__).resolve().parent.parent / "models"))

DEFAULT_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")


@dataclass
class RuntimeConfig:
    # Wanted providers, in order of preference; those the installed onnxruntime
    # build lacks are dropped. CPU is always kept as the last resort.
    providers: tuple[str, ...] = DEFAULT_PROVIDERS
    # 0 lets ONNX Runtime pick (one thread per physical core). A worker host
    # running N worker processes should set this to cores / N.
    intra_op_threads: int = 0
    models_dir: Path = field(default_factory=lambda: MODELS_DIR)


_config = RuntimeConfig()
_sessions: dict[str, ort.InferenceSession] = {}
_lock = threading.Lock()
_pid = os.getpid()


def _env_config() -> RuntimeConfig:
    providers = os.environ.get("ONNX_PROVIDERS")
    threads = os.environ.get("ONNX_THREADS")
    return RuntimeConfig(
        providers=tuple(p.strip() for p in providers.split(",") if p.strip()) if providers else DEFAULT_PROVIDERS,
        intra_op_threads=int(threads) if threads else 0,
    )


_config = _env_config()


def configure(
    *,
    providers: tuple[str, ...] | list[str] | None = None,
    intra_op_threads: int | None = None,
    models_dir: Path | str | None = None,
) -> None:
    """Set the runtime options; drops sessions built with the old ones."""
    global _config
    with _lock:
        _config = RuntimeConfig(
            providers=tuple(providers) if providers else _config.providers,
            intra_op_threads=_config.intra_op_threads if intra_op_threads is None else intra_op_threads,
            models_dir=Path(models_dir) if models_dir else _config.models_dir,
        )
        _sessions.clear()


def available_providers() -> list[str]:
    """The configured providers that this onnxruntime build offers, CPU last."""
    offered = set(ort.get_available_providers())
    wanted = [p for p in _config.providers if p in offered and p != "CPUExecutionProvider"]
    return [*wanted, "CPUExecutionProvider"]


def model_path(name: str) -> Path:
    return _config.models_dir / name


def get_session(name: str) -> ort.InferenceSession:
    """The process-wide session for ``models/<name>``, built on first use."""
    global _pid
    with _lock:
        if os.getpid() != _pid:  # forked since the sessions were built
            _sessions.clear()
            _pid = os.getpid()
        session = _sessions.get(name)
        if session is None:
            path = model_path(name)
            if not path.is_file():
                raise FileNotFoundError(f"ONNX model not found: {path}")
            options = ort.SessionOptions()
            options.intra_op_num_threads = _config.intra_op_threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3  # the CUDA fallback chatter is reported by us, below
            session = ort.InferenceSession(str(path), sess_options=options, providers=available_providers())
            # onnxruntime-gpu lists CUDA even without a usable GPU and silently
            # falls back: report what the session really runs on.
            log.info("ONNX model %s loaded on %s", name, session.get_providers()[0])
            _sessions[name] = session
        return session


def providers_in_use() -> dict[str, str]:
    """Model name -> provider actually used, for the sessions built so far."""
    with _lock:
        return {name: s.get_providers()[0] for name, s in _sessions.items()}


def runtime_info() -> dict:
    """What /healthz and the benchmarks report about the runtime."""
    return {
        "onnxruntime": ort.__version__,
        "device": ort.get_device(),
        "configured_providers": list(_config.providers),
        "available_providers": available_providers(),
        "sessions": providers_in_use(),
        "intra_op_threads": _config.intra_op_threads,
    }
