"""Made skin over a wide bared zone carries the light of the real skin around it, not one flat tone."""

import numpy as np

from imaging.tryon.classical.skin import _bordering_fill


def _chest(h: int = 120, w: int = 120) -> tuple[np.ndarray, np.ndarray]:
    zone = np.zeros((h, w), bool)
    zone[30:110, 30:90] = True  # the bared chest
    real = np.zeros((h, w), bool)
    real[10:30, 45:75] = True  # the neck above it
    real[30:110, 15:30] = True  # the arms beside it
    real[30:110, 90:105] = True
    return zone, real


def test_fill_is_dark_under_a_shadowed_neck_and_light_beside_lit_arms():
    zone, real = _chest()
    diff = np.zeros((*zone.shape, 3), np.float32)
    diff[10:30, 45:75, 0] = -10.0  # the neck is darker than the made tone
    diff[30:110, 15:30, 0] = 4.0  # the arms lighter
    diff[30:110, 90:105, 0] = 4.0
    out = _bordering_fill(diff, zone, real, sw=100.0)
    assert out is not None
    top = out[32:40, 55:65, 0].mean()
    side = out[70:90, 32:36, 0].mean()
    assert top < -4.0 and side > 2.0
    assert out[zone, 0].std() > 2.0  # a gradient across the zone, not a flat offset


def test_no_fill_for_a_strap_wide_zone_or_without_skin_around():
    zone, real = _chest()
    diff = np.ones((*zone.shape, 3), np.float32)
    thin = np.zeros_like(zone)
    thin[30:110, 58:61] = True
    assert _bordering_fill(diff, thin, real, sw=100.0) is None
    assert _bordering_fill(diff, zone, np.zeros_like(real), sw=100.0) is None
