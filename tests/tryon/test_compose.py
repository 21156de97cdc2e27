"""Composition pieces on a synthetic person: the skin fill and the fold transfer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imaging.tryon.classical.body import Body, arm_reach
from imaging.tryon.classical.categories import garment_category
from imaging.tryon.classical.compose import (
    compose,
    dress_below_hem,
    fabric_shading,
    fill_small_gaps,
    old_garment,
    old_straps,
    skin_zone,
)
from imaging.tryon.classical.geometry import apply_affine, upright_fit
from imaging.tryon.classical.skin import sample_skin, skin_layer

from .shapes import PastedLayers, front_keypoints

SKIN = (205, 150, 120)
H = W = 400


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.asarray(rgb, np.float32).reshape(-1, 1, 3) / 255.0, cv2.COLOR_RGB2Lab).reshape(-1, 3)


@pytest.fixture(scope="module")
def scene():
    """A grey backdrop, a face of known skin with some dark hair in it, a black long-sleeved arm."""
    rng = np.random.default_rng(3)
    img = np.full((H, W, 3), 200, np.uint8)
    face = np.zeros((H, W), np.uint8)
    cv2.circle(face, (200, 70), 40, 1, -1)
    face = face.astype(bool)
    img[face] = np.clip(np.array(SKIN) + rng.normal(0, 3, (face.sum(), 3)), 0, 255).astype(np.uint8)
    img[face & (np.arange(H)[:, None] < 45)] = (40, 30, 25)  # hair over the forehead: not skin
    kp = front_keypoints()
    sleeve = np.zeros((H, W), np.uint8)
    cv2.line(sleeve, (130, 140), (115, 240), 1, 34)
    cv2.line(sleeve, (115, 240), (110, 330), 1, 26)
    sleeve = sleeve.astype(bool)
    img[sleeve] = (25, 25, 28)
    body = Body(shape=(H, W), kp=kp, torso=np.zeros((H, W), bool), arms=sleeve)
    regions = {
        "face_hair_neck": face,
        "sleeves": sleeve,
        "arms": sleeve,
        "upper_garment": sleeve,
        "hands": np.zeros((H, W), bool),
    }
    return img, regions, body, sleeve


def test_sample_skin_matches_the_face_not_the_hair(scene):
    img, regions, body, _ = scene
    tone = sample_skin(img, regions, body)
    assert tone.samples > 500
    assert np.linalg.norm(tone.lab - _lab(SKIN)[0]) < 3.0  # delta E
    assert 0.4 <= tone.grain <= 3.0


def test_skin_fill_has_the_person_s_tone_volume_and_grain(scene):
    img, regions, body, sleeve = scene
    tone = sample_skin(img, regions, body)
    zone = sleeve & (arm_reach(body) < 1.0)
    rgb, alpha = skin_layer(img, zone, sleeve, tone, body, feather=1.0)
    filled = _lab(np.clip(rgb[zone], 0, 255))
    # Colour: close to the sampled face skin (median over the arm), nothing like the old black sleeve.
    assert np.linalg.norm(np.median(filled, axis=0) - tone.lab) < 4.0
    # Not a flat block: lightness varies (grain and roundness)...
    assert filled[:, 0].std() > 1.0
    # ...and the arm is rounded: its middle lighter than its edges.
    reach = arm_reach(body)
    centre, edge = zone & (reach < 0.3), zone & (reach > 0.8)
    lum = _lab(np.clip(rgb, 0, 255)).reshape(H, W, 3)[..., 0]
    assert lum[centre].mean() > lum[edge].mean() + 2.0
    # Soft edge: the alpha ramps at the zone's border instead of jumping 0 -> 1.
    ring = cv2.dilate(zone.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~zone
    assert 0.05 < alpha[ring].mean() < 0.6
    assert alpha[cv2.erode(zone.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)].min() > 0.95


def test_bare_arm_stays_within_the_arm_s_width(scene):
    _, _, body, _ = scene
    reach = arm_reach(body)
    # 0.15 shoulder widths (140 px) at the shoulder: ~21 px each side of the bone.
    row = reach[150]
    inside = np.flatnonzero(row[:200] < 1.0)
    assert 30 <= inside.size <= 50


def test_fold_transfer_ignores_a_print_but_keeps_a_fold():
    old = np.zeros((H, W), bool)
    old[50:350, 50:350] = True
    img = np.full((H, W, 3), 150, np.uint8)
    # A soft fold (broad, 10% darker) and a crisp black logo.
    xx = np.arange(W)[None, :]
    fold = 1 - 0.1 * np.exp(-(((xx - 120) / 15.0) ** 2))
    img = (img * fold[..., None]).astype(np.uint8)
    img[200:260, 220:320] = 10
    shading = fabric_shading(img, old, sw=200.0, fade=2.0)
    assert shading[150, 120] < 0.97  # the fold carries over
    logo = shading[210:250, 230:310]
    assert np.abs(logo - 1).max() < 0.08  # the logo does not ghost through


def test_upright_fit_keeps_the_garment_upright():
    src = np.array([[100.0, 50], [300, 50], [160, 30], [240, 30]])
    tilted = src @ np.array([[np.cos(0.2), -np.sin(0.2)], [np.sin(0.2), np.cos(0.2)]]).T * 1.5 + 20
    m = upright_fit(src, tilted, np.array([0.0, 1.0]))
    # Scale right, rotation none: vertical stays vertical.
    assert np.allclose(m[:, :2], m[0, 0] * np.eye(2)) and 1.3 < m[0, 0] < 1.6
    out = apply_affine(m, np.array([[0.0, 0], [0, 100]]))
    assert abs(out[1, 0] - out[0, 0]) < 1e-9


def test_light_carries_over_even_on_a_patterned_old_garment():
    # Busy stripes switch the fold transfer down; the broad light (brighter on the left, falling
    # off to the right) must still reach the new fabric, and a logo must not make a dark blob.
    old = np.zeros((H, W), bool)
    old[50:350, 50:350] = True
    xx = np.arange(W)[None, :].astype(np.float32)
    light = 1.15 - 0.4 * (xx - 50) / 300
    stripes = np.where((np.arange(H)[:, None] // 6) % 2 == 0, 200.0, 60.0)
    img = np.clip(stripes * light, 0, 255).astype(np.uint8)
    img = np.repeat(img[..., None], 3, axis=2)
    shading = fabric_shading(img, old, sw=200.0, fade=2.0)
    left, right = float(np.median(shading[100:300, 80:120])), float(np.median(shading[100:300, 280:320]))
    assert left - right > 0.08  # not a flat slab
    assert np.abs(np.diff(shading[100:300, 150], axis=0)).max() < 0.02  # the stripes do not ghost
    # A plain garment with a black logo: no dark blob where the logo was.
    plain = np.full((H, W, 3), 150, np.uint8)
    plain[200:260, 220:320] = 10
    flat = fabric_shading(plain, old, sw=200.0, fade=2.0)
    assert np.abs(flat[160:300, 100:300] - 1).max() < 0.08


def test_small_gaps_between_pieces_are_filled_with_garment_colour():
    torso = np.zeros((H, W), np.float32)
    torso[100:300, 150:250] = 1
    sleeve = np.zeros((H, W), np.float32)
    sleeve[100:180, 100:152] = 1
    torso[120:130, 150:156] = 0  # a sliver where the sleeve meets the torso, enclosed by both
    g_rgb = np.zeros((H, W, 3), np.float32)
    g_rgb[torso > 0] = (200, 30, 40)
    g_rgb[sleeve > 0] = (200, 30, 40)
    g_rgb[120:130, 152:156] = 0  # no piece there: no colour
    big_hole = torso.copy()
    big_hole[150:250, 170:230] = 0  # a large opening is no gap to fill
    out_rgb, pieces = fill_small_gaps(g_rgb, {"torso": big_hole, "r_sleeve": sleeve}, sw=200.0)
    assert pieces["torso"][125, 153] == 1 and np.abs(out_rgb[125, 153] - (200, 30, 40)).max() < 20
    assert pieces["torso"][200, 200] == 0
    # Outside the gap, nothing changes.
    assert np.array_equal(pieces["torso"][200:300, 150:170], big_hole[200:300, 150:170])


def test_chest_between_straps_above_a_low_neckline_is_skin(scene):
    _, regions, body = scene[:3]
    torso = np.zeros((H, W), np.float32)
    torso[130:330, 150:160] = 1  # straps up to the shoulders
    torso[130:330, 240:250] = 1
    torso[230:330, 150:250] = 1  # a low neckline at y=230
    revealed = np.ones((H, W), bool)
    zone = skin_zone(revealed, {"torso": torso}, regions, body)
    assert zone[190, 200] and zone[215, 180]  # chest between the straps, above the neckline
    assert not zone[280, 200]  # under the new garment
    # The neck's column just above the shoulder line (an old collar there) is skin too.
    assert zone[125, 200]


def test_stray_garment_speck_inside_the_head_is_not_old_garment():
    """An earring mislabelled as garment next to the face is left alone; a detached piece of the
    garment outside the head (a sleeve) is still old garment."""
    h, w = 200, 200
    head = np.zeros((h, w), bool)
    head[10:80, 60:140] = True
    upper = np.zeros((h, w), bool)
    upper[90:190, 50:150] = True
    upper[40:48, 64:72] = True  # the earring, surrounded by hair and face
    sleeves = np.zeros((h, w), bool)
    sleeves[100:120, 170:190] = True  # small and detached, but beside the background
    regions = {"face_hair_neck": head & ~upper, "upper_garment": upper, "sleeves": sleeves}
    old = old_garment(regions, garment_category("tops").replaces)
    assert not old[40:48, 64:72].any()
    assert old[90:190, 50:150].all() and old[100:120, 170:190].all()


def test_old_strap_above_the_new_neckline_is_found_but_hair_is_not():
    """A thin black strap left above the new garment on neck/shoulder skin is old garment; a thick
    dark lock of hair touching the garment is not; neither is a strap-thin line far from it."""
    img = np.full((H, W, 3), SKIN, np.uint8)
    old = np.zeros((H, W), bool)
    old[150:330, 150:250] = True
    img[old] = (20, 20, 22)
    cv2.line(img, (160, 155), (175, 105), (20, 20, 22), 2)  # the strap
    cv2.circle(img, (230, 140), 15, (25, 22, 20), -1)  # hair resting on the shoulder
    cv2.line(img, (100, 110), (110, 100), (20, 20, 22), 2)  # far from both garments
    head = ~old
    alpha = np.zeros((H, W), np.float32)
    alpha[150:330, 140:260] = 1
    kp = {
        "r_shoulder": np.array([130.0, 140]),
        "l_shoulder": np.array([270.0, 140]),
        "r_hip": np.array([150.0, 330]),
        "l_hip": np.array([250.0, 330]),
    }
    body = Body(shape=(H, W), kp=kp, torso=np.zeros((H, W), bool), arms=np.zeros((H, W), bool))
    straps = old_straps(img, old, head, alpha, body)
    assert straps[125:140].any() and straps[108:120].any()  # the strap, up to near its top
    assert not straps[130:150, 222:238].any()  # the lock of hair
    assert not straps[95:115, 95:115].any()


@pytest.mark.parametrize(
    ("top", "skirt", "kept"), [((20, 20, 22), (20, 20, 22), True), ((200, 40, 40), (30, 40, 150), False)]
)
def test_old_dress_below_a_shorter_new_top_is_kept(top, skirt, kept):
    """Below the new top's hem, the old garment carrying on into the lower body in the same colour
    (a dress) is kept; an old top of another colour than the skirt below it is not."""
    img = np.full((H, W, 3), 200, np.uint8)
    upper = np.zeros((H, W), bool)
    upper[140:260, 140:260] = True
    lower = np.zeros((H, W), bool)
    lower[260:390, 140:260] = True
    img[upper], img[lower] = top, skirt
    torso = np.zeros((H, W), np.float32)
    torso[135:230, 135:265] = 1  # the new top ends 30 px above the old garment's waist
    revealed = upper & (torso < 0.5)
    kp = {
        "r_shoulder": np.array([130.0, 140]),
        "l_shoulder": np.array([270.0, 140]),
        "r_hip": np.array([150.0, 330]),
        "l_hip": np.array([250.0, 330]),
    }
    body = Body(shape=(H, W), kp=kp, torso=np.zeros((H, W), bool), arms=np.zeros((H, W), bool))
    regions = {"upper_garment": upper, "lower_body": lower, "face_hair_neck": np.zeros((H, W), bool)}
    keep = dress_below_hem(img, revealed, {"torso": torso}, regions, body)
    assert bool(keep[235:258, 150:250].all()) is kept
    assert not keep[:230].any()


def test_made_skin_meets_bordering_real_skin_without_a_step(scene):
    """Where the made skin continues real skin of another lighting (a bare forearm below a sleeve that
    is taken away), it is brought to that skin at the border; where it borders no real skin, it keeps
    the sampled tone."""
    img, regions, body, sleeve = scene
    tone = sample_skin(img, regions, body)
    darker = tuple(int(0.8 * c) for c in SKIN)  # the forearm is in shadow
    img = img.copy()
    forearm = np.zeros((H, W), np.uint8)
    cv2.line(forearm, (290, 250), (290, 340), 1, 26)
    forearm = forearm.astype(bool)
    img[forearm] = darker
    zone = np.zeros((H, W), bool)
    zone[200:250, 278:303] = True  # made skin right above the real forearm
    old = zone.copy()
    rgb, _ = skin_layer(img, zone, old, tone, body, feather=1.0)
    lum = _lab(np.clip(rgb, 0, 255)).reshape(H, W, 3)[..., 0]
    border_row, far_row = lum[245, 283:298].mean(), lum[202, 283:298].mean()
    real = _lab(darker)[0][0]
    assert abs(border_row - real) < 5  # brought to the real skin next to it (the sampled tone is 12 L lighter)
    assert abs(far_row - tone.lab[0]) < abs(far_row - real)  # farther away, still the sampled tone


def test_a_narrower_one_piece_leaves_none_of_the_wide_old_garment_showing():
    """A person in a wide old top and wide trousers gets a narrower, shorter dress: every old-garment
    pixel the dress does not cover is rebuilt (legs on the body, backdrop beside it), none keeps the
    old colours; the head stays as it was."""
    rng = np.random.default_rng(5)
    img = np.clip(np.full((H, W, 3), 200.0) + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
    face = np.zeros((H, W), np.uint8)
    cv2.circle(face, (200, 80), 38, 1, -1)
    face = face.astype(bool)
    img[face] = SKIN
    top_colour, trousers_colour = (200, 60, 50), (40, 60, 140)
    upper = np.zeros((H, W), bool)
    upper[140:250, 110:290] = True
    lower = np.zeros((H, W), bool)
    lower[250:400, 100:300] = True
    img[upper], img[lower] = top_colour, trousers_colour
    kp = {
        "r_shoulder": np.array([130.0, 140]),
        "l_shoulder": np.array([270.0, 140]),
        "r_elbow": np.array([60.0, 200]),
        "l_elbow": np.array([340.0, 200]),
        "r_wrist": np.array([20.0, 240]),
        "l_wrist": np.array([380.0, 240]),
        "r_hip": np.array([160.0, 260]),
        "l_hip": np.array([240.0, 260]),
        "r_knee": np.array([165.0, 380]),
        "l_knee": np.array([235.0, 380]),
        "r_ankle": np.array([165.0, 500]),
        "l_ankle": np.array([235.0, 500]),
        "nose": np.array([200.0, 85]),
    }
    body = Body(shape=(H, W), kp=kp, torso=upper, arms=np.zeros((H, W), bool), lower=lower)
    empty = np.zeros((H, W), bool)
    regions = {
        "face_hair_neck": face,
        "upper_garment": upper,
        "sleeves": empty,
        "arms": empty,
        "arm_skin": empty,
        "hands": empty,
        "torso_skin": empty,
        "lower_body": lower,
    }
    alpha = np.zeros((H, W), np.float32)
    alpha[135:330, 145:255] = 1  # the dress: narrower than both old garments, ending above the trousers' hem
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[:] = (30, 160, 60)
    comp = compose(img, regions, body, PastedLayers(rgb, alpha), garment_category("one-pieces"))
    outside = comp.garment_alpha < 0.02
    lab = _lab(comp.image).reshape(H, W, 3)
    for colour in (top_colour, trousers_colour):
        near = np.linalg.norm(lab - _lab(np.array([colour]))[0], axis=2) < 20
        assert not (near & outside).any()
    assert np.array_equal(comp.image[face], img[face])
    # The self-check records what of the replaced old garment still shows: nothing here.
    from imaging.tryon.classical.selfcheck import self_check
    from imaging.types import Category

    check = self_check(comp, body, Category.ONE_PIECES)
    assert check.old_visible == 0.0
    assert "self_check_old_visible" in check.as_info()


def test_a_bold_print_covering_much_of_the_old_top_does_not_ghost_as_light():
    """Large dark letters over a third of a white tee are print, not shadow: the broad light is measured
    on the white fabric around them, so the new fabric shows no dark block where they were."""
    old = np.zeros((H, W), bool)
    old[50:350, 50:350] = True
    img = np.full((H, W, 3), 235, np.uint8)
    for x0 in (90, 200):  # two letter-sized blocks, about a third of the garment
        img[110:290, x0 : x0 + 80] = 25
    shading = fabric_shading(img, old, sw=200.0, fade=2.0)
    on_print = float(np.median(shading[150:250, 110:150]))
    beside = float(np.median(shading[300:340, 100:300]))
    assert abs(on_print - beside) < 0.03
    assert np.abs(shading[100:300, 100:300] - 1).max() < 0.06


def test_a_dark_fabric_s_sheen_is_not_carried_as_light():
    """A black satin top's sheen doubles its luminance in places: as a ratio of small values that read
    as light at the cap's full strength (0.3 between the sides); over the floor it is well under it."""
    old = np.zeros((H, W), bool)
    old[50:350, 50:350] = True
    img = np.full((H, W, 3), 20, np.uint8)
    img[50:350, 200:350] = 45  # a broad sheen on one side
    shading = fabric_shading(img, old, sw=200.0, fade=2.0)
    assert abs(float(np.median(shading[100:300, 260:330])) - float(np.median(shading[100:300, 70:140]))) < 0.2
