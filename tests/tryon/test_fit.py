"""Where the warp puts a top on a drawn body: the garment's own proportions, symmetric about the body axis."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from imaging.tryon.classical.body import Body, body_axis
from imaging.tryon.classical.categories import fit_garment
from imaging.tryon.classical.categories.tops import _untwisted, top_targets
from imaging.tryon.classical.garment import analyze_garment
from imaging.tryon.classical.garment_model import Sleeve
from imaging.tryon.classical.warp import folded_share, streaked_share

from .shapes import LONG_SLEEVED_TEE

RED = (200, 30, 40)


def tee(hem_y: int) -> np.ndarray:
    """A boxy short-sleeved tee drawn on white; ``hem_y`` sets its length (shoulders at y=110)."""
    points = [
        (240, 80),
        (300, 110),
        (360, 80),
        (450, 110),
        (540, 230),
        (470, 280),
        (430, 230),
        (430, hem_y),
        (170, hem_y),
        (170, 230),
        (130, 280),
        (60, 230),
        (150, 110),
    ]
    img = np.full((600, 600, 3), 255, np.uint8)
    cv2.fillPoly(img, [np.array(points, np.int32)], RED)
    return img


def drawn_body() -> Body:
    """A frontal body whose shoulder line is tilted (one shoulder raised) but whose trunk is upright."""
    kp = {
        name: np.array(p, float)
        for name, p in {
            "l_shoulder": (530, 300),
            "r_shoulder": (270, 330),
            "l_elbow": (565, 520),
            "r_elbow": (235, 545),
            "l_wrist": (575, 700),
            "r_wrist": (225, 720),
            "l_hip": (480, 700),
            "r_hip": (320, 700),
            "l_knee": (470, 880),
            "r_knee": (330, 880),
            "l_ankle": (470, 990),
            "r_ankle": (330, 990),
            "nose": (400, 200),
        }.items()
    }
    h, w = 1000, 800
    torso = np.zeros((h, w), np.uint8)
    cv2.fillPoly(
        torso, [np.array([(285, 290), (515, 285), (500, 720), (300, 720), (300, 950), (500, 950)], np.int32)], 1
    )
    cv2.rectangle(torso, (300, 700), (500, 950), 1, -1)
    arms = np.zeros((h, w), np.uint8)
    for side in ("l", "r"):
        chain = [kp[f"{side}_shoulder"], kp[f"{side}_elbow"], kp[f"{side}_wrist"]]
        for a, b in zip(chain[:-1], chain[1:], strict=False):
            cv2.line(arms, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, 50)
    return Body(shape=(h, w), kp=kp, torso=torso.astype(bool) & ~arms.astype(bool), arms=arms.astype(bool))


@pytest.fixture(scope="module")
def body() -> Body:
    return drawn_body()


def _depth_below_shoulders(body: Body, p: np.ndarray) -> float:
    _, d = body_axis(body)
    mid_sh = (body.kp["l_shoulder"] + body.kp["r_shoulder"]) / 2
    return float(np.dot(p - mid_sh, d))


def test_body_axis_follows_the_trunk_not_the_shoulder_line(body):
    u, d = body_axis(body)
    assert np.allclose(d, (0, 1), atol=1e-6) and np.allclose(u, (1, 0), atol=1e-6)
    assert abs(body.d[0]) > 0.05  # the shoulder line's perpendicular is tilted here


def test_cropped_tee_ends_high_and_long_tee_low(body):
    cropped, long_ = analyze_garment(tee(300), category="tops"), analyze_garment(tee(540), category="tops")
    t_crop, _, _ = top_targets(cropped, body)
    t_long, _, _ = top_targets(long_, body)
    sw = body.shoulder_width
    mid_sh, mid_hip = [(body.kp[f"l_{n}"] + body.kp[f"r_{n}"]) / 2 for n in ("shoulder", "hip")]
    torso_len = float(np.linalg.norm(mid_hip - mid_sh))
    hem_crop = _depth_below_shoulders(body, (t_crop["l_hem"] + t_crop["r_hem"]) / 2)
    hem_long = _depth_below_shoulders(body, (t_long["l_hem"] + t_long["r_hem"]) / 2)
    # The garment's own proportion (shoulder line to hem over shoulder width) at the body's shoulder width,
    # measured from the seams, which sit 0.12 shoulder widths above the joints.
    for g, hem in ((cropped, hem_crop), (long_, hem_long)):
        lm = g.landmarks
        g_sw = float(np.linalg.norm(lm["l_shoulder"] - lm["r_shoulder"]))
        g_len = float((lm["l_hem"][1] + lm["r_hem"][1]) / 2 - (lm["l_shoulder"][1] + lm["r_shoulder"][1]) / 2)
        assert hem == pytest.approx(g_len / g_sw * sw - 0.12 * sw, rel=0.1)
    assert hem_crop < 0.7 * torso_len  # well above the hips
    assert hem_long > hem_crop + 0.5 * sw


@pytest.mark.parametrize("hem_y", [300, 540])
def test_trunk_targets_are_symmetric_about_the_body_axis_and_not_wider_than_the_garment(body, hem_y):
    g = analyze_garment(tee(hem_y), category="tops")
    t, _, k = top_targets(g, body)
    u, _ = body_axis(body)
    axis_x = float((body.kp["l_shoulder"][0] + body.kp["r_shoulder"][0]) / 2)  # the drawn trunk is upright
    lm = g.landmarks
    for level in ("armpit", "waist", "hem"):
        left, right = t[f"l_{level}"], t[f"r_{level}"]
        assert (left[0] + right[0]) / 2 == pytest.approx(axis_x, abs=1.0), level
        assert left[1] == pytest.approx(right[1], abs=1.0), level
    for level in ("waist", "hem"):
        half = float(np.dot(t[f"l_{level}"] - t[f"r_{level}"], u)) / 2
        g_half = abs(float(lm[f"l_{level}"][0] - lm[f"r_{level}"][0])) / 2 * k
        assert g_half - 1 <= half <= 1.1 * g_half + 1, level


def test_sleeves_hang_from_the_shoulder_seams(body):
    g = analyze_garment(tee(300), category="tops")
    warp = fit_garment(g, body)
    names = {p.name for p in warp.pieces}
    assert names == {"torso", "l_sleeve", "r_sleeve"}
    sw = body.shoulder_width
    for side in ("l", "r"):
        root = warp.pairs[f"{side}_sleeve_root"][1]
        seam = warp.pairs[f"{side}_shoulder"][1]
        joint = body.kp[f"{side}_shoulder"]
        assert 0 <= root[1] - seam[1] < 0.07 * sw  # just below the seam's height, not hanging off the shoulder
        assert abs(root[0] - joint[0]) < 0.05 * sw  # on the arm's axis
        cuff = warp.pairs[f"{side}_sleeve_cuff"][1]
        to_elbow = body.kp[f"{side}_elbow"] - root
        along = cuff - root
        cos = float(np.dot(along, to_elbow) / (np.linalg.norm(along) * np.linalg.norm(to_elbow)))
        assert cos > 0.98  # down the upper arm


@pytest.mark.parametrize("gap_sw, reaches", [(0.1, True), (0.4, False)])
def test_hem_just_short_of_the_waistband_reaches_it_but_a_crop_top_stays_short(body, gap_sw, reaches):
    g = analyze_garment(tee(300), category="tops")
    t_free, _, _ = top_targets(g, body)
    sw = body.shoulder_width
    free = _depth_below_shoulders(body, (t_free["l_hem"] + t_free["r_hem"]) / 2)
    mid_sh = (body.kp["l_shoulder"] + body.kp["r_shoulder"]) / 2
    band_y = int(round(mid_sh[1] + free + gap_sw * sw))
    lower = np.zeros(body.shape, bool)
    lower[band_y:, 280:520] = True
    dressed = Body(shape=body.shape, kp=body.kp, torso=body.torso, arms=body.arms, lower=lower)
    t, _, _ = top_targets(g, dressed)
    hem = _depth_below_shoulders(dressed, (t["l_hem"] + t["r_hem"]) / 2)
    if reaches:
        assert hem >= band_y - mid_sh[1] - 1
    else:
        assert hem == pytest.approx(free, abs=0.5)


def test_a_top_measured_longer_than_any_top_ends_at_the_thighs_but_a_dress_keeps_its_length(body):
    """Shoulders found too close together (no seam on a dolman cut) make a top's hem land at the
    knees: a top's scale comes down so its hem ends at the top of the thighs; a dress is not capped."""
    img = np.full((1100, 600, 3), 255, np.uint8)
    points = [(240, 80), (300, 110), (360, 80), (450, 110), (540, 230), (470, 280), (430, 230)]
    points += [(430, 1050), (170, 1050), (170, 230), (130, 280), (60, 230), (150, 110)]
    cv2.fillPoly(img, [np.array(points, np.int32)], RED)
    mid_sh, mid_hip = [(body.kp[f"l_{n}"] + body.kp[f"r_{n}"]) / 2 for n in ("shoulder", "hip")]
    torso_len = _depth_below_shoulders(body, mid_hip)
    top = analyze_garment(img, category="tops")
    t_top, _, k_top = top_targets(top, body)
    hem_top = _depth_below_shoulders(body, (t_top["l_hem"] + t_top["r_hem"]) / 2)
    assert hem_top == pytest.approx(1.2 * torso_len, rel=0.03)
    dress = analyze_garment(img, category="one-pieces")
    t_dress, _, k_dress = top_targets(dress, body)
    hem_dress = _depth_below_shoulders(body, (t_dress["l_hem"] + t_dress["r_hem"]) / 2)
    assert hem_dress > 1.5 * torso_len
    assert k_top < 0.8 * k_dress  # the sleeves and widths shrink with the length


def test_straps_rising_far_above_the_shoulder_points_put_the_neckline_on_the_upper_arms(body):
    """A cold-shoulder top: straps (its neck corners) rise half a shoulder width above the corners of a
    neckline that lies on the upper arms. Those corners land below and outside the shoulder joints,
    and the body of the top keeps its length instead of being squeezed up to the chest."""
    from dataclasses import replace

    tee_ = analyze_garment(tee(400), category="tops")  # short enough that no length cap applies
    lm = dict(tee_.landmarks)
    g_sw = float(np.linalg.norm(lm["l_shoulder"] - lm["r_shoulder"]))
    for side in ("l", "r"):
        lm[f"{side}_neck"] = lm[f"{side}_neck"] - np.array([0, 0.5 * g_sw], np.float32)
    cold = replace(tee_, landmarks=lm)
    t_tee, _, _ = top_targets(tee_, body)
    t_cold, _, _ = top_targets(cold, body)
    sw = body.shoulder_width
    for side, sign in (("l", 1), ("r", -1)):
        joint = body.kp[f"{side}_shoulder"]
        assert t_cold[f"{side}_shoulder"][1] > joint[1]  # below the joint, on the arm
        assert sign * (t_cold[f"{side}_shoulder"][0] - joint[0]) > 0.05 * sw  # outside it
        assert t_tee[f"{side}_shoulder"][1] < joint[1]  # a tee's seam stays above
    hem = {
        n: _depth_below_shoulders(body, (t["l_hem"] + t["r_hem"]) / 2) for n, t in (("tee", t_tee), ("cold", t_cold))
    }
    assert hem["cold"] > hem["tee"] + 0.2 * sw


def long_sleeved_tee() -> np.ndarray:
    """A tee with long sleeves laid down along its sides, the cuffs near the hem."""
    points = LONG_SLEEVED_TEE
    img = np.full((600, 600, 3), 255, np.uint8)
    cv2.fillPoly(img, [np.array(points, np.int32)], RED)
    return img


def test_long_sleeves_end_at_the_wrists_and_short_ones_above_the_elbows(body):
    """A long sleeve runs down to the wrist (its length at the garment's scale fell short of it), a
    short one stays short."""
    long_ = fit_garment(analyze_garment(long_sleeved_tee(), category="tops"), body)
    short = fit_garment(analyze_garment(tee(300), category="tops"), body)
    sw = body.shoulder_width
    for side in ("l", "r"):
        wrist, elbow = body.kp[f"{side}_wrist"], body.kp[f"{side}_elbow"]
        assert np.linalg.norm(long_.pairs[f"{side}_sleeve_cuff"][1] - wrist) < 0.05 * sw
        short_cuff = short.pairs[f"{side}_sleeve_cuff"][1]
        assert short_cuff[1] < elbow[1]


def test_long_sleeves_cover_the_arms_down_to_the_wrists(body):
    """Sleeves laid down along the torso in the photo cover each arm from below the shoulder to the
    wrist, across its whole width: no bare strip of arm is left between the sleeve and the torso."""
    warp = fit_garment(analyze_garment(long_sleeved_tee(), category="tops"), body)
    h, w = body.shape
    for side in ("l", "r"):
        piece = next(p for p in warp.pieces if p.name == f"{side}_sleeve")
        covered = np.zeros((h, w), bool)
        covered[piece.box.slices] = piece.alpha > 0.5
        arm = np.zeros((h, w), np.uint8)
        shoulder, elbow, wrist = (body.kp[f"{side}_{n}"] for n in ("shoulder", "elbow", "wrist"))
        start = shoulder + 0.25 * (elbow - shoulder)  # below the shoulder cap, which the torso covers
        for a, b in ((start, elbow), (elbow, wrist)):
            cv2.line(arm, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, 40)  # the drawn arm is 50 wide
        arm = arm.astype(bool) & body.arms
        assert (covered & arm).sum() > 0.9 * arm.sum(), side


def flared_sleeve_blouse() -> np.ndarray:
    """A blouse whose flared sleeves hang from its shoulders against its sides, with no background
    between them and the torso: its silhouette is one trapezoid from the shoulders to the cuffs."""
    points = [(250, 60), (300, 80), (350, 60), (430, 100), (520, 470), (80, 470), (170, 100)]
    img = np.full((600, 600, 3), 255, np.uint8)
    cv2.fillPoly(img, [np.array(points, np.int32)], RED)
    return img


def test_sleeves_lying_against_the_torso_keep_the_blouse_at_its_own_length(body):
    """Flared sleeves laid against the torso are still sleeves: the blouse is placed as a sleeved top,
    its hem as far below the shoulders, relative to its shoulder width, as on the photo (taken for a
    strap top it was shrunk to a crop top), and its waist and hem end at the torso's sides, not at
    the cuffs beside them."""
    g = analyze_garment(flared_sleeve_blouse(), category="tops")
    assert set(g.sleeves) == {"l", "r"}
    lm = g.landmarks
    g_sw = float(np.linalg.norm(lm["l_shoulder"] - lm["r_shoulder"]))
    assert abs(float(lm["l_hem"][0] - lm["r_hem"][0])) <= 1.05 * g_sw
    t, _, _ = top_targets(g, body)
    sw = body.shoulder_width
    g_len = float((lm["l_hem"][1] + lm["r_hem"][1]) / 2 - (lm["l_shoulder"][1] + lm["r_shoulder"][1]) / 2)
    hem = _depth_below_shoulders(body, (t["l_hem"] + t["r_hem"]) / 2)
    assert hem == pytest.approx(g_len / g_sw * sw - 0.12 * sw, rel=0.1)
    names = {p.name for p in fit_garment(g, body).pieces}
    assert {"torso", "l_sleeve", "r_sleeve"} <= names


def sleeveless_flared_shell() -> np.ndarray:
    """A sleeveless top with wide shoulders whose body flares out below its arm holes."""
    points = [(250, 60), (300, 80), (350, 60), (430, 100), (400, 200), (480, 470), (120, 470), (200, 200), (170, 100)]
    img = np.full((600, 600, 3), 255, np.uint8)
    cv2.fillPoly(img, [np.array(points, np.int32)], RED)
    return img


def test_a_flared_sleeveless_top_has_no_sleeves():
    """Its arm holes turn in under the shoulders: the flare below them is its body, not hanging sleeves."""
    g = analyze_garment(sleeveless_flared_shell(), category="tops")
    assert g.sleeves == {}


def sleeveless_shift(hem_y: int) -> np.ndarray:
    """A sleeveless shift dress whose shoulders run almost to its armholes' edges (no straps)."""
    points = [(250, 60), (300, 85), (350, 60), (425, 70), (405, 120), (400, 210), (425, 240)]
    points += [(440, hem_y), (160, hem_y), (175, 240), (200, 210), (195, 120), (175, 70)]
    img = np.full((hem_y + 60, 600, 3), 255, np.uint8)
    cv2.fillPoly(img, [np.array(points, np.int32)], RED)
    return img


def test_a_wide_shouldered_sleeveless_dress_fits_the_chest_and_reaches_its_hem(body):
    """Taken for straps set inside the shoulder joints, a shift's wide shoulders made the whole dress
    small, its hem at the hips; across the armpits it fits the chest with a little ease, and the
    warped dress covers the body without a break from the armpits down to its hem."""
    dress = analyze_garment(sleeveless_shift(560), category="one-pieces")
    assert not dress.sleeves
    lm = dress.landmarks
    sw = body.shoulder_width
    t, _, k = top_targets(dress, body)
    g_chest = abs(float(lm["l_armpit"][0] - lm["r_armpit"][0]))
    assert k * g_chest >= 1.06 * 2 * 0.45 * sw - 1  # at least around the narrowest chest the fit allows
    mid_hip = (body.kp["l_hip"] + body.kp["r_hip"]) / 2
    torso_len = _depth_below_shoulders(body, mid_hip)
    hem = _depth_below_shoulders(body, (t["l_hem"] + t["r_hem"]) / 2)
    assert hem > 1.3 * torso_len  # well below the hips, towards the knees
    torso = next(p for p in fit_garment(dress, body).pieces if p.name == "torso")
    x0, y0 = int(torso.box[0]), int(torso.box[1])
    axis_x = int((body.kp["l_hip"][0] + body.kp["r_hip"][0]) / 2)
    armpit_y = int((t["l_armpit"][1] + t["r_armpit"][1]) / 2)
    hem_y = int((t["l_hem"][1] + t["r_hem"][1]) / 2)
    column = torso.alpha[armpit_y - y0 : hem_y - y0 - 5, axis_x - x0]
    assert column.size > 0 and column.min() > 0.5


def _outer_sliver(sleeve: Sleeve, width: int) -> Sleeve:
    """The outermost ``width`` columns of a sleeve hanging down a garment's side: all the silhouette shows
    of a long sleeve lying against the torso down to its cuff, the rest being inside the torso's outline."""
    outward = 1.0 if sleeve.cuff[0] > sleeve.shoulder[0] else -1.0
    mask = np.zeros_like(sleeve.mask)
    for y in np.flatnonzero(sleeve.mask.any(axis=1)):
        cols = np.flatnonzero(sleeve.mask[y])
        edge = cols.max() if outward > 0 else cols.min()
        keep = cols[np.abs(cols - edge) < width]
        mask[y, keep] = True
    half = width / 2
    shift = np.array([outward, 0.0])
    return Sleeve(
        shoulder=sleeve.shoulder + (sleeve.root_half_width - half) * shift,
        cuff=sleeve.cuff + (sleeve.half_width - half) * shift,
        half_width=half,
        mask=mask,
        root_half_width=half,
    )


def test_a_sleeve_measured_as_a_sliver_is_not_stretched_into_streaks(body):
    """A long sleeve whose silhouette shows only a sliver beside the torso is read from the garment across
    the arm's width (the torso beside it is the sleeve lying on it): blown up from the sliver, the fabric
    showed as streaks across the arm. It still covers the arm."""
    g = analyze_garment(long_sleeved_tee(), category="tops")
    thin = replace(g, sleeves={side: _outer_sliver(s, 8) for side, s in g.sleeves.items()})
    warp = fit_garment(thin, body)
    for side in ("l", "r"):
        assert streaked_share(warp, f"{side}_sleeve") < 0.05, side
        piece = next(p for p in warp.pieces if p.name == f"{side}_sleeve")
        covered = np.zeros(body.shape, bool)
        covered[piece.box.slices] = piece.alpha > 0.5
        elbow = body.kp[f"{side}_elbow"].astype(int)
        assert covered[elbow[1], elbow[0] - 15 : elbow[0] + 16].all(), side  # across the arm at the elbow


def test_a_sleeve_on_an_arm_bent_at_the_elbow_is_not_twisted(body):
    """A hand on the hip: the arm turns by about a right angle at the elbow. The sleeve bends with it
    without being twisted (its control points at the elbow turned by the whole bend and crossed their
    neighbours', which swirled the fabric into streaks)."""
    kp = {name: p.copy() for name, p in body.kp.items()}
    kp["r_elbow"], kp["r_wrist"] = np.array([100.0, 490.0]), np.array([300.0, 640.0])
    arms = np.zeros(body.shape, np.uint8)
    for side in ("l", "r"):
        chain = [kp[f"{side}_shoulder"], kp[f"{side}_elbow"], kp[f"{side}_wrist"]]
        for a, b in zip(chain[:-1], chain[1:], strict=True):
            cv2.line(arms, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, 50)
    bent = Body(shape=body.shape, kp=kp, torso=body.torso & ~arms.astype(bool), arms=arms.astype(bool))
    warp = fit_garment(analyze_garment(long_sleeved_tee(), category="tops"), bent)
    assert streaked_share(warp, "r_sleeve") < 0.05
    assert folded_share(warp, "r_sleeve") == 0.0


def test_at_a_sharp_bend_the_sleeve_edges_keep_advancing_down_the_arm():
    """Stations on either side of an elbow bent by a right angle: set square to the arm, the inner edge's
    point would step back past the previous station's; turned back, both edges advance."""
    stations = [
        (np.array([0.0, 0.0]), np.array([-1.0, 0.0]), 40.0),
        (np.array([0.0, 30.0]), np.array([0.0, 1.0]), 40.0),
    ]

    def edge_steps(stations: list[tuple[np.ndarray, np.ndarray, float]]) -> list[float]:
        (q, q_perp, q_hw), (p, perp, hw) = stations
        step = p - q
        return [float(np.dot(p + k * hw * perp - (q + k * q_hw * q_perp), step)) for k in (-1.0, 1.0)]

    assert min(edge_steps(stations)) < 0  # square to the arm, one edge steps back
    assert min(edge_steps(_untwisted(stations))) > 0.25 * 30**2
