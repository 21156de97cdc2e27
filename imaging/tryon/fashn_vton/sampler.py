"""Rectified-flow sampling: the shifted time schedule and Euler steps with classifier-free guidance.

Facts from upstream (fashn-AI/fashn-vton-1.5, read only):
- ``src/fashn_vton/utils/sampling.py``: t runs from 0 (noise) to 1 (image) over
  ``linspace`` points shifted by ``t' = e^m / (e^m + (1/t - 1))`` with m = -mu, mu = 1.5,
  which puts more of the steps near the noise end.
- ``src/fashn_vton/pipeline.py`` ``_sample``: x <- x + (t_next - t) * v, with
  v = v_u + g (v_c - v_u), g = 1.5, and the plain conditional velocity on the
  last step ("skip_cfg_last_n_steps=1": guidance there saturates colours).

The step itself (model + guidance + update) runs wherever the runner keeps its
state (the GPU, with ONNX Runtime's IO binding); this module only drives it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np

DEFAULT_SHIFT_MU = 1.5
DEFAULT_GUIDANCE = 1.5
DEFAULT_SKIP_GUIDANCE_LAST = 1


def rf_schedule(num_steps: int, mu: float = DEFAULT_SHIFT_MU) -> np.ndarray:
    """num_steps + 1 times from exactly 0.0 to exactly 1.0, increasing (float64)."""
    if num_steps < 1:
        raise ValueError("num_steps must be at least 1")
    t = np.linspace(0.0, 1.0, num_steps + 1)
    shifted = np.empty_like(t)
    shifted[0], shifted[-1] = 0.0, 1.0  # the limits of the formula at t = 0 and t = 1
    inner = t[1:-1]
    shifted[1:-1] = math.exp(-mu) / (math.exp(-mu) + (1.0 / inner - 1.0))
    return shifted


def guidance_for_step(step: int, num_steps: int, scale: float, skip_last: int = DEFAULT_SKIP_GUIDANCE_LAST) -> float:
    """The guidance scale of step ``step`` (0-based): 1.0 (conditional only) on the last ``skip_last`` steps."""
    return 1.0 if skip_last > 0 and step >= num_steps - skip_last else scale


def guided_update(x: np.ndarray, v_cond: np.ndarray, v_uncond: np.ndarray, dt: float, guidance: float) -> np.ndarray:
    """The arithmetic the step graph does: x + dt * (v_u + g * (v_c - v_u))."""
    return x + np.float32(dt) * (v_uncond + np.float32(guidance) * (v_cond - v_uncond))


class StepRunner(Protocol):
    """Holds the sample's state where the model runs; one guided Euler step per call."""

    def start(self, x0: np.ndarray) -> None: ...

    def step(self, t: float, dt: float, guidance: float) -> None: ...

    def result(self) -> np.ndarray: ...


def euler_sample(
    runner: StepRunner,
    x0: np.ndarray,
    num_steps: int,
    *,
    guidance: float = DEFAULT_GUIDANCE,
    skip_guidance_last: int = DEFAULT_SKIP_GUIDANCE_LAST,
    mu: float = DEFAULT_SHIFT_MU,
    on_step: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Integrate from the noise ``x0`` (t = 0) to the image (t = 1); ``on_step(done, total)`` after each step."""
    times = rf_schedule(num_steps, mu)
    runner.start(x0)
    for i in range(num_steps):
        t, t_next = float(times[i]), float(times[i + 1])
        runner.step(t, t_next - t, guidance_for_step(i, num_steps, guidance, skip_guidance_last))
        if on_step is not None:
            on_step(i + 1, num_steps)
    return runner.result()


class VelocityRunner:
    """A runner around a numpy velocity function ``(x, t) -> (v_cond, v_uncond)``: tests and references."""

    def __init__(self, velocity: Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray]]) -> None:
        self.velocity = velocity
        self.x: np.ndarray | None = None

    def start(self, x0: np.ndarray) -> None:
        self.x = x0.astype(np.float32, copy=True)

    def step(self, t: float, dt: float, guidance: float) -> None:
        assert self.x is not None
        v_c, v_u = self.velocity(self.x, t)
        self.x = guided_update(self.x, v_c, v_u, dt, guidance)

    def result(self) -> np.ndarray:
        assert self.x is not None
        return self.x
