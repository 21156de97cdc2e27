"""ONNX Runtime sessions for a bundle, and the step runner that keeps the sample on the device.

With CUDA the sample and the conditions live in GPU memory for the whole
sampling loop (IO binding): per step only t, dt and the guidance (12 bytes) go
to the device, and the step's output buffer becomes the next step's input. The
same code runs on CPU (device "cpu"), which is what CI exercises.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from imaging import onnx_runtime

from .bundle import Bundle

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"


def session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(onnx_runtime.runtime_info()["intra_op_threads"])
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


def choose_precision(bundle: Bundle, provider: str, wanted: str) -> str:
    """float16 only on CUDA and only when the bundle has it (ONNX Runtime's CPU kernels for it are slow)."""
    if wanted == "auto":
        return "float16" if provider == CUDA and "float16" in bundle.generators else "float32"
    if wanted not in bundle.generators:
        raise ValueError(f"the bundle has no {wanted} generator (it has {', '.join(bundle.generators)})")
    return wanted


@dataclass
class Sessions:
    generator: ort.InferenceSession
    detector: ort.InferenceSession
    keypoints: ort.InferenceSession
    precision: str

    @property
    def provider(self) -> str:
        """What the generator really runs on (onnxruntime-gpu lists CUDA even where it then falls back)."""
        return str(self.generator.get_providers()[0])

    @property
    def device(self) -> str:
        return "cuda" if self.provider == CUDA else "cpu"


def build_sessions(bundle: Bundle, precision: str = "auto") -> Sessions:
    providers = onnx_runtime.available_providers()
    chosen = choose_precision(bundle, providers[0], precision)
    options = session_options()
    generator = ort.InferenceSession(str(bundle.path(bundle.generators[chosen])), options, providers=providers)
    detector = ort.InferenceSession(str(bundle.detector), options, providers=providers)
    keypoints = ort.InferenceSession(str(bundle.keypoints), options, providers=providers)
    log.info("FASHN VTON generator (%s) loaded on %s", chosen, generator.get_providers()[0])
    return Sessions(generator=generator, detector=detector, keypoints=keypoints, precision=chosen)


class OrtStepRunner:
    """Runs the bundle's guided Euler step graph with IO binding (see the module docstring)."""

    def __init__(self, session: ort.InferenceSession, conditions: dict[str, np.ndarray], device: str) -> None:
        self.session = session
        self.device = device
        self.binding = session.io_binding()
        # Kept referenced: the binding points at their memory.
        self.conditions = {
            name: ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(value), device, 0)
            for name, value in conditions.items()
        }
        for name, value in self.conditions.items():
            self.binding.bind_ortvalue_input(name, value)
        self.scalars = {n: ort.OrtValue.ortvalue_from_numpy(np.zeros(1, np.float32)) for n in ("t", "dt", "guidance")}
        self.current: ort.OrtValue | None = None
        self.spare: ort.OrtValue | None = None

    def start(self, x0: np.ndarray) -> None:
        x0 = np.ascontiguousarray(x0, dtype=np.float32)
        self.current = ort.OrtValue.ortvalue_from_numpy(x0, self.device, 0)
        self.spare = ort.OrtValue.ortvalue_from_shape_and_type(list(x0.shape), np.float32, self.device, 0)

    def step(self, t: float, dt: float, guidance: float) -> None:
        assert self.current is not None and self.spare is not None, "start() first"
        for name, value in (("t", t), ("dt", dt), ("guidance", guidance)):
            self.scalars[name].update_inplace(np.array([value], dtype=np.float32))
            self.binding.bind_ortvalue_input(name, self.scalars[name])
        self.binding.bind_ortvalue_input("x", self.current)
        self.binding.bind_ortvalue_output("x_next", self.spare)
        self.session.run_with_iobinding(self.binding)
        self.current, self.spare = self.spare, self.current

    def result(self) -> np.ndarray:
        assert self.current is not None, "start() first"
        return np.asarray(self.current.numpy())
