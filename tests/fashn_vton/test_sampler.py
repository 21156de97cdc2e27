"""The sampler against closed-form cases, and the bundle's step graph against the guidance arithmetic."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from imaging.tryon.fashn_vton.sampler import (
    VelocityRunner,
    euler_sample,
    guidance_for_step,
    guided_update,
    rf_schedule,
)

TINY = Path(__file__).resolve().parent.parent / "fixtures" / "fashn-vton-tiny"


@pytest.mark.parametrize("steps", [1, 4, 20, 30])
def test_schedule_endpoints_and_order(steps):
    t = rf_schedule(steps)
    assert len(t) == steps + 1
    assert t[0] == 0.0 and t[-1] == 1.0  # exactly: the sample starts at pure noise and ends at the image
    assert np.all(np.diff(t) > 0)


def test_schedule_is_the_shifted_linear_one():
    # t' = e^-mu / (e^-mu + 1/t - 1) at t = 1/2 is e^-mu / (e^-mu + 1) = sigmoid(-mu).
    t = rf_schedule(2, mu=1.5)
    assert t[1] == pytest.approx(1 / (1 + math.exp(1.5)), abs=1e-15)
    # mu = 0 is no shift at all.
    assert np.allclose(rf_schedule(10, mu=0.0), np.linspace(0, 1, 11), atol=1e-15)
    # A positive mu spends the first steps near the noise end: the first step is shorter than linear.
    assert rf_schedule(30)[1] < 1 / 30


def test_guidance_per_step():
    assert [guidance_for_step(i, 4, 1.5) for i in range(4)] == [1.5, 1.5, 1.5, 1.0]
    assert [guidance_for_step(i, 4, 1.5, skip_last=0) for i in range(4)] == [1.5] * 4
    assert [guidance_for_step(i, 4, 2.0, skip_last=2) for i in range(4)] == [2.0, 2.0, 1.0, 1.0]


def test_constant_velocity_lands_on_the_straight_line():
    # Rectified flow from noise x0 to image x1 along the straight line has velocity x1 - x0 everywhere.
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((1, 3, 8, 6)).astype(np.float32)
    x1 = rng.uniform(-1, 1, (1, 3, 8, 6)).astype(np.float32)
    seen = []

    def velocity(x, t):
        seen.append(t)
        # The sample must be on the line at every step's start time.
        np.testing.assert_allclose(x, x0 + t * (x1 - x0), atol=1e-5)
        return x1 - x0, np.zeros_like(x0)  # v_u plays no part at guidance 1

    # Guidance 1 (v = v_c) on every step: the Euler steps must stay exactly on the line.
    out = euler_sample(VelocityRunner(velocity), x0, 7, guidance=1.0, skip_guidance_last=0)
    np.testing.assert_allclose(out, x1, atol=1e-5)
    assert seen == pytest.approx(list(rf_schedule(7)[:-1]))


def test_guidance_extrapolates_from_unconditional_to_conditional():
    # v_c and v_u constant: the endpoint is x0 + (sum of dt*g) * (v_c - v_u) + v_u, with the last step unguided.
    x0 = np.zeros((1, 3, 2, 2), np.float32)
    v_c = np.full_like(x0, 2.0)
    v_u = np.full_like(x0, -1.0)
    steps, g = 5, 1.5
    out = euler_sample(VelocityRunner(lambda x, t: (v_c, v_u)), x0, steps, guidance=g, skip_guidance_last=1)
    t = rf_schedule(steps)
    guided_span, last = t[steps - 1] - t[0], t[steps] - t[steps - 1]
    expected = guided_span * (v_u + g * (v_c - v_u)) + last * v_c
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_guided_update_arithmetic():
    x, v_c, v_u = (np.array([v], np.float32) for v in (1.0, 3.0, 1.0))
    assert guided_update(x, v_c, v_u, 0.5, 2.0)[0] == 1 + 0.5 * (1 + 2 * 2)
    assert guided_update(x, v_c, v_u, 0.5, 1.0)[0] == 1 + 0.5 * 3


@pytest.fixture(scope="module")
def step_session():
    return ort.InferenceSession(str(TINY / "generator.onnx"), providers=["CPUExecutionProvider"])


def _feed(seed: int, guidance: float, dt: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = 144, 96
    return {
        "x": rng.standard_normal((1, 3, h, w)).astype(np.float32),
        "t": np.array([0.3], np.float32),
        "dt": np.array([dt], np.float32),
        "guidance": np.array([guidance], np.float32),
        "ca_image": rng.uniform(-1, 1, (1, 3, h, w)).astype(np.float32),
        "garment": rng.uniform(-1, 1, (1, 3, h, w)).astype(np.float32),
        "person_pose": rng.uniform(-1, 1, (1, 1, h, w)).astype(np.float32),
        "garment_pose": rng.uniform(-1, 1, (1, 1, h, w)).astype(np.float32),
        "category": np.array([1], np.int64),
    }


def test_step_graph_does_the_guided_euler_update(step_session):
    run = lambda g, dt: step_session.run(None, _feed(3, g, dt))[0]  # noqa: E731
    x = _feed(3, 0, 0)["x"]
    np.testing.assert_array_equal(run(1.5, 0.0), x)  # dt = 0: no move at all
    v_u = run(0.0, 1.0) - x  # g = 0: the unconditional velocity
    v_c = run(1.0, 1.0) - x  # g = 1: the conditional one
    assert np.abs(v_c - v_u).mean() > 1e-2  # the conditions matter (else the check below proves nothing)
    np.testing.assert_allclose(run(1.5, 0.25), x + 0.25 * (v_u + 1.5 * (v_c - v_u)), atol=1e-4)


def test_unconditional_pass_ignores_the_conditions(step_session):
    a, b = _feed(3, 0.0, 1.0), _feed(4, 0.0, 1.0)
    b["x"], b["category"] = a["x"], np.array([3], np.int64)
    # With g = 0 only v_u counts, and it sees the noisy image and t, never the conditions or the category.
    np.testing.assert_allclose(step_session.run(None, a)[0], step_session.run(None, b)[0], atol=1e-6)
