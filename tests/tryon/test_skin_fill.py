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


def test_made_skin_matches_the_real_skin_not_the_pale_pixels_along_a_white_collar():
    """The pixels along a white collar mix its white into the skin beside it: paler and greyer than
    either. Measured as the bordering skin, a few of them pulled a whole made chest pale; the real
    skin clear of that edge is what the made skin must meet."""
    import cv2

    from imaging.tryon.classical.skin import _match_bordering_skin

    h, w = 240, 240
    skin = (200, 140, 110)
    rgb = np.full((h, w, 3), skin, np.uint8)
    old = np.zeros((h, w), bool)
    old[60:200, 40:200] = True  # the old white T-shirt
    rgb[old] = (245, 245, 245)
    # Its edge against the neck above: a 3 px band of skin blended half with the white.
    blend = (np.array(skin) * 0.5 + 245 * 0.5).astype(np.uint8)
    rgb[57:60, 40:200] = blend
    zone = np.zeros((h, w), bool)
    zone[60:120, 70:170] = True  # the chest the new garment bares
    lab_rgb = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    made = np.zeros((h, w, 3), np.float32)
    made[...] = lab_rgb[20, 120]  # the made tone equals the real skin's
    person_skin = ~old
    offset = _match_bordering_skin(rgb, zone, old, made, 200.0, person_skin, np.ones((h, w), bool))
    assert abs(float(np.median(offset[zone, 0]))) < 1.5
    assert abs(float(np.median(offset[zone, 1]))) < 1.5
