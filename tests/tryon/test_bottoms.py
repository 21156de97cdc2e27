"""Bottoms on a drawn person: where the fit puts trousers and shorts, and what the composition changes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imaging.tryon.classical.body import Body
from imaging.tryon.classical.categories import fit_garment, garment_category
from imaging.tryon.classical.compose import compose
from imaging.tryon.classical.garment import analyze_garment
from imaging.types import Category

GREEN = (40, 160, 60)
JEANS = (40, 60, 140)
TOP = (200, 30, 40)
SKIN = (205, 150, 120)
BACKDROP = (235, 235, 235)
H, W = 1000, 600


def trousers(leg_end: int) -> np.ndarray:
    """Trousers drawn on white, waistband at y=40; ``leg_end`` sets the legs' length (shorts end high)."""
    img = np.full((700, 600, 3), 255, np.uint8)
    points = [(200, 40), (400, 40), (420, leg_end), (320, leg_end), (300, 220), (280, leg_end), (180, leg_end)]
    cv2.fillPoly(img, [np.array(points, np.int32)], GREEN)
    return img


KP = {
    name: np.array(p, float)
    for name, p in {
        "nose": (300, 110),
        "l_eye": (315, 100),
        "r_eye": (285, 100),
        "l_shoulder": (370, 220),
        "r_shoulder": (230, 220),
        "l_elbow": (395, 340),
        "r_elbow": (205, 340),
        "l_wrist": (405, 450),
        "r_wrist": (195, 450),
        "l_hip": (340, 450),
        "r_hip": (260, 450),
        "l_knee": (345, 680),
        "r_knee": (255, 680),
        "l_ankle": (345, 900),
        "r_ankle": (255, 900),
    }.items()
}


@pytest.fixture(scope="module")
def person() -> tuple[np.ndarray, dict[str, np.ndarray], Body]:
    """A frontal person: skin head and hands, a red top hanging over the waistband of blue jeans."""
    img = np.full((H, W, 3), BACKDROP, np.uint8)
    shape = (H, W)

    def blank() -> np.ndarray:
        return np.zeros(shape, np.uint8)

    head, legs, top, arms, hands = blank(), blank(), blank(), blank(), blank()
    cv2.circle(head, (300, 120), 55, 1, -1)
    cv2.rectangle(head, (280, 160), (320, 215), 1, -1)  # the neck
    leg_outline = [(240, 400), (360, 400), (370, 910), (310, 910), (300, 560), (290, 910), (230, 910)]
    cv2.fillPoly(legs, [np.array(leg_outline, np.int32)], 1)
    cv2.fillPoly(top, [np.array([(225, 210), (375, 210), (372, 480), (228, 480)], np.int32)], 1)
    for side in ("l", "r"):
        shoulder, elbow, wrist = (tuple(int(v) for v in KP[f"{side}_{j}"]) for j in ("shoulder", "elbow", "wrist"))
        cv2.line(arms, shoulder, elbow, 1, 36)
        cv2.line(arms, elbow, wrist, 1, 30)
        cv2.circle(hands, (wrist[0] + (2 if side == "l" else -2), wrist[1] + 28), 20, 1, -1)
    head, legs, top, arms, hands = (m.astype(bool) for m in (head, legs, top, arms, hands))
    arms &= ~hands
    lower = legs & ~top & ~hands & ~arms
    top &= ~arms & ~hands
    img[head] = SKIN
    img[hands] = SKIN
    img[lower] = JEANS
    img[top | arms] = TOP
    rng = np.random.default_rng(5)
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    regions = {
        "face_hair_neck": head,
        "hands": hands,
        "arms": arms,
        "arm_skin": np.zeros(shape, bool),
        "sleeves": arms,
        "upper_garment": top | arms,
        "torso_skin": np.zeros(shape, bool),
        "lower_body": lower,
    }
    regions["background"] = ~(head | hands | arms | top | lower)
    torso = top | lower
    body = Body(shape=shape, kp=KP, torso=torso, arms=arms | hands, lower=lower)
    return img, regions, body


@pytest.fixture(scope="module")
def long_trousers():
    return analyze_garment(trousers(660))


@pytest.fixture(scope="module")
def shorts():
    return analyze_garment(trousers(300), category="bottoms")


def _target(warp, name: str) -> np.ndarray:
    return warp.pairs[name][1]


def _with_legs(body: Body, knee_drop: float, ankle_drop: float) -> Body:
    """``body`` with its knees and ankles this far straight below its hips."""
    kp = dict(body.kp)
    for side in ("l", "r"):
        kp[f"{side}_knee"] = kp[f"{side}_hip"] + np.array([0.0, knee_drop])
        kp[f"{side}_ankle"] = kp[f"{side}_hip"] + np.array([0.0, ankle_drop])
    return Body(shape=body.shape, kp=kp, torso=body.torso, arms=body.arms, lower=body.lower)


def test_trousers_are_one_piece_with_the_waistband_at_the_waist(person, long_trousers):
    _, _, body = person
    assert long_trousers.category == Category.BOTTOMS
    warp = fit_garment(long_trousers, body)
    assert [p.name for p in warp.pieces] == ["bottoms"]
    l_waist, r_waist = _target(warp, "l_waist"), _target(warp, "r_waist")
    # The wearer's left is the image's right; the band is level, a little above the hip joints.
    assert l_waist[0] > r_waist[0] and l_waist[1] == pytest.approx(r_waist[1], abs=1.0)
    assert 400 < l_waist[1] < 450
    # At least as wide as the body there (the drawn trunk is 120-150 px wide at that height).
    assert l_waist[0] - r_waist[0] >= 120


def test_leg_openings_follow_the_legs_at_the_garment_s_own_length(person, long_trousers, shorts):
    _, _, body = person
    long_fit, short_fit = fit_garment(long_trousers, body), fit_garment(shorts, body)
    for side in ("l", "r"):
        knee, ankle = body.kp[f"{side}_knee"], body.kp[f"{side}_ankle"]
        long_hem = (_target(long_fit, f"{side}_hem_out") + _target(long_fit, f"{side}_hem_in")) / 2
        short_hem = (_target(short_fit, f"{side}_hem_out") + _target(short_fit, f"{side}_hem_in")) / 2
        # Long trousers reach well below the knee to the ankle (just past it, onto the shoe); shorts
        # end above the knee.
        assert knee[1] + 80 < long_hem[1] <= ankle[1] + 12
        assert short_hem[1] < knee[1] - 40
        # Each opening is centred on its own leg.
        for hem in (long_hem, short_hem):
            assert abs(hem[0] - knee[0]) < 25
        # The outer edge is on the outside of the leg.
        outward = 1.0 if side == "l" else -1.0
        assert (_target(long_fit, f"{side}_hem_out")[0] - long_hem[0]) * outward > 0


def test_warped_trousers_cover_both_legs_and_not_the_gap_between_them(person, long_trousers):
    _, _, body = person
    warp = fit_garment(long_trousers, body)
    _, alpha, _ = warp.layers(body.shape)
    for side in ("l", "r"):
        hip, knee = body.kp[f"{side}_hip"], body.kp[f"{side}_knee"]
        for f in (0.3, 0.6, 0.9):
            x, y = np.round(hip + f * (knee - hip)).astype(int)
            assert alpha[y, x] > 0.9, (side, f)
    # Between the knees, below the crotch: no trousers.
    assert alpha[760, 300] < 0.1
    # Nothing at the chest.
    assert alpha[:350].max() == 0


def test_compose_changes_the_legs_and_leaves_the_upper_body_alone(person, long_trousers):
    img, regions, body = person
    kind = garment_category(Category.BOTTOMS)
    comp = compose(img, regions, body, fit_garment(long_trousers, body), kind)
    kernel = np.ones((9, 9), np.uint8)
    # The head, the arms and the top (which hangs over the new waistband) are untouched, away
    # from their feathered edge.
    upper = regions["face_hair_neck"] | regions["upper_garment"] | regions["hands"]
    inner_upper = cv2.erode(upper.astype(np.uint8), kernel).astype(bool)
    assert np.array_equal(comp.image[inner_upper], img[inner_upper])
    assert not comp.edited_mask[inner_upper].any()
    # Every edited pixel is on the old or the new bottoms (within the feather).
    near_legs = cv2.dilate((regions["lower_body"] | (comp.garment_alpha > 0)).astype(np.uint8), kernel).astype(bool)
    assert not (comp.edited_mask & ~near_legs).any()
    # The legs are the new green, shaded but not blue any more.
    inner_legs = cv2.erode(regions["lower_body"].astype(np.uint8), kernel).astype(bool)
    covered = inner_legs & (comp.garment_alpha > 0.99)
    assert covered.sum() > 0.8 * inner_legs.sum()
    median = np.median(comp.image[covered].astype(np.float32), axis=0)
    assert np.abs(median - GREEN).max() < 25
    # Bottoms make no skin, and no strap of an old top is looked for.
    assert comp.skin is not None and not comp.skin.any()


def test_shorts_over_long_jeans_fill_the_uncovered_legs_from_the_surroundings_not_with_skin(person, shorts):
    img, regions, body = person
    comp = compose(img, regions, body, fit_garment(shorts, body), garment_category("bottoms"))
    # Below the shorts, the old jeans are uncovered: refilled, never painted as skin.
    shins = regions["lower_body"].copy()
    shins[:760] = False
    assert comp.revealed[shins].mean() > 0.9
    assert comp.skin is not None and not comp.skin.any()
    assert comp.edited_mask[shins].all()
    blue_left = np.linalg.norm(comp.image[shins].astype(np.float32) - JEANS, axis=1)
    assert np.median(blue_left) > 60  # the jeans are gone, not kept
    # The head stays exactly as it was.
    head = regions["face_hair_neck"]
    assert np.array_equal(comp.image[head], img[head])


def test_bottoms_category_keeps_the_upper_body_in_front():
    kind = garment_category(Category.BOTTOMS)
    assert kind.replaces == ("lower_body",) and kind.body_piece == "bottoms"
    shape = (50, 40)
    regions = {name: np.zeros(shape, bool) for name in ("face_hair_neck", "hands", "arms", "upper_garment")}
    regions["upper_garment"][5:20, 5:35] = True
    regions["hands"][30:36, 2:8] = True
    body = Body(shape=shape, kp=KP, torso=np.zeros(shape, bool), arms=np.zeros(shape, bool))
    front = kind.in_front(regions, body, feather=0.0)
    assert np.array_equal(front.over_body_piece, (regions["upper_garment"] | regions["hands"]).astype(np.float32))
    assert np.array_equal(front.over_body_piece, front.over_other_pieces)


def test_wide_leg_openings_on_close_legs_are_moved_outward_not_crossed(person):
    """Flared trousers on legs close together: each opening stays on its own side of the gap
    between the ankles, and each leg bends at its knee."""
    _, _, body = person
    img = np.full((700, 600, 3), 255, np.uint8)
    flared = [(200, 40), (400, 40), (500, 660), (310, 660), (300, 220), (290, 660), (100, 660)]
    cv2.fillPoly(img, [np.array(flared, np.int32)], GREEN)
    warp = fit_garment(analyze_garment(img, category="bottoms"), body)
    mid_x = (body.kp["l_ankle"][0] + body.kp["r_ankle"][0]) / 2
    assert _target(warp, "l_hem_in")[0] > mid_x > _target(warp, "r_hem_in")[0]
    for side in ("l", "r"):
        knee = (_target(warp, f"{side}_knee_in") + _target(warp, f"{side}_knee_out")) / 2
        assert abs(knee[1] - body.kp[f"{side}_knee"][1]) < 2
    _, alpha, _ = warp.layers(body.shape)
    assert alpha[850, int(mid_x)] < 0.1  # the gap between the hems stays open


def test_legs_the_frame_cuts_off_keep_the_garment_s_length(person, long_trousers):
    """When the pose puts knees and ankles just under the hips (legs cut by the frame), the trousers
    keep the length their waist width gives them instead of shrinking into a band at the hips."""
    _, _, body = person
    cut = _with_legs(body, knee_drop=40.0, ankle_drop=60.0)
    full, short = fit_garment(long_trousers, body), fit_garment(long_trousers, cut)
    for side in ("l", "r"):
        assert _target(short, f"{side}_hem_out")[1] > _target(full, f"{side}_hem_out")[1] - 60


def test_shoes_counted_as_the_old_trousers_are_kept(person, long_trousers):
    """The person analysis may take the shoes for part of the lower garment: uncovered, they are
    feet (below the ankles, unlike the trousers' colour) and stay as they are, not filled in."""
    img, regions, body = person
    img, regions = img.copy(), dict(regions)
    feet = np.zeros((H, W), bool)
    for side in ("l", "r"):
        x, y = (int(v) for v in body.kp[f"{side}_ankle"])
        cv2.ellipse(feet.view(np.uint8), (x, y + 30), (30, 18), 0, 0, 360, 1, -1)
    feet &= ~regions["lower_body"]
    img[feet] = (250, 250, 250)
    regions["lower_body"] = regions["lower_body"] | feet
    regions["background"] = regions["background"] & ~feet
    comp = compose(img, regions, body, fit_garment(long_trousers, body), garment_category(Category.BOTTOMS))
    inner_feet = cv2.erode(feet.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    uncovered = inner_feet & (comp.garment_alpha < 1.0 / 512)  # (clear of the new hem's feathered edge)
    assert uncovered.sum() > 500
    assert np.array_equal(comp.image[uncovered], img[uncovered])


def test_high_waisted_old_trousers_lift_the_new_waistband_not_its_width(person, long_trousers):
    """Old trousers reaching well above the usual waist would show between the top and the new
    waistband: the band is lifted to cover them, at the same width."""
    _, _, body = person
    high = body.lower.copy()
    high[340:450, 250:350] = True
    lifted = Body(shape=body.shape, kp=body.kp, torso=body.torso, arms=body.arms, lower=high)
    usual, raised = fit_garment(long_trousers, body), fit_garment(long_trousers, lifted)
    for side in ("l", "r"):
        assert _target(raised, f"{side}_waist")[1] < _target(usual, f"{side}_waist")[1] - 30
        assert _target(raised, f"{side}_waist")[1] > 340  # not above the old garment
    width = lambda w: _target(w, "l_waist")[0] - _target(w, "r_waist")[0]  # noqa: E731
    assert width(raised) == pytest.approx(width(usual), abs=1.0)


def _dressed(dress: np.ndarray, hip_line: int, one_piece: bool):
    """A person in ``dress`` (a mask, red), bare skin arms and legs below it; like the analysis does for a
    dress, the dress is upper garment above ``hip_line`` and lower body below it, with the bare legs."""
    img = np.full((H, W, 3), BACKDROP, np.uint8)
    shape = (H, W)

    def blank() -> np.ndarray:
        return np.zeros(shape, np.uint8)

    head, legs, arms, hands = blank(), blank(), blank(), blank()
    cv2.circle(head, (300, 120), 55, 1, -1)
    cv2.rectangle(head, (280, 160), (320, 215), 1, -1)
    leg_outline = [(240, 430), (360, 430), (370, 910), (310, 910), (300, 560), (290, 910), (230, 910)]
    cv2.fillPoly(legs, [np.array(leg_outline, np.int32)], 1)
    for side in ("l", "r"):
        shoulder, elbow, wrist = (tuple(int(v) for v in KP[f"{side}_{j}"]) for j in ("shoulder", "elbow", "wrist"))
        cv2.line(arms, shoulder, elbow, 1, 36)
        cv2.line(arms, elbow, wrist, 1, 30)
        cv2.circle(hands, (wrist[0] + (2 if side == "l" else -2), wrist[1] + 28), 20, 1, -1)
    head, legs, arms, hands = (m.astype(bool) for m in (head, legs, arms, hands))
    arms &= ~hands
    dress = dress & ~arms & ~hands & ~head
    legs &= ~dress & ~hands
    img[head | hands | arms | legs] = SKIN
    img[dress] = TOP
    rng = np.random.default_rng(7)
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    rows = np.arange(H)[:, None]
    upper = dress & (rows < hip_line)
    lower = (dress & (rows >= hip_line)) | legs
    regions = {
        "face_hair_neck": head,
        "hands": hands,
        "arms": arms,
        "arm_skin": arms,
        "sleeves": np.zeros(shape, bool),
        "upper_garment": upper,
        "torso_skin": np.zeros(shape, bool),
        "lower_body": lower,
    }
    regions["background"] = ~(head | hands | arms | dress | legs)
    body = Body(shape=shape, kp=KP, torso=upper, arms=arms | hands, lower=lower, one_piece=one_piece)
    return img, regions, body


def test_bare_legs_below_an_old_skirt_stay_as_they_are_under_shorter_bottoms(shorts):
    """The old lower garment is the skirt, not the legs below it: shorts ending above the skirt's hem
    replace the skirt and leave the bare shins exactly as they were (they used to be filled in)."""
    skirt = np.zeros((H, W), np.uint8)
    cv2.fillPoly(skirt, [np.array([(225, 210), (375, 210), (385, 650), (215, 650)], np.int32)], 1)
    img, regions, body = _dressed(skirt.astype(bool), hip_line=450, one_piece=False)
    comp = compose(img, regions, body, fit_garment(shorts, body), garment_category(Category.BOTTOMS))
    shins = regions["lower_body"] & ~skirt.astype(bool)
    shins[:700] = False
    inner = cv2.erode(shins.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert inner.sum() > 3000
    assert np.array_equal(comp.image[inner], img[inner])
    assert not comp.revealed[inner].any()
    # The skirt below the shorts is still replaced.
    below_shorts = skirt.astype(bool) & (comp.garment_alpha < 0.01) & (np.arange(H)[:, None] > 560)
    assert below_shorts.sum() > 500 and comp.revealed[below_shorts].all()


def test_trousers_on_a_dress_tuck_it_in_at_the_new_waistband(long_trousers):
    """New trousers on a person in a dress: above the new waistband the dress stays, a top tucked into
    them; below it the dress is gone, its flare beside the trousers filled with the backdrop (it used to
    hang over the trousers, and its skirt to stay beside them)."""
    dress = np.zeros((H, W), np.uint8)
    outline = [(225, 210), (375, 210), (392, 400), (415, 650), (185, 650), (208, 400)]
    cv2.fillPoly(dress, [np.array(outline, np.int32)], 1)
    dress = dress.astype(bool)
    img, regions, body = _dressed(dress, hip_line=450, one_piece=True)
    comp = compose(img, regions, body, fit_garment(long_trousers, body), garment_category(Category.BOTTOMS))
    shown = comp.garment_alpha > 0.5
    band_top = int(np.flatnonzero(shown.any(axis=1))[0])
    # The dress above the waistband is untouched.
    rows = np.arange(H)[:, None]
    kept = cv2.erode((dress & (rows < band_top - 6)).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert np.array_equal(comp.image[kept], img[kept])
    # Below it, beside the trousers and under the hands' reach, no red dress is left.
    beside = dress & ~cv2.dilate(shown.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    beside &= (rows > band_top + 6) & ~regions["hands"] & ~regions["arms"]
    assert beside.sum() > 300
    red = np.linalg.norm(comp.image[beside].astype(np.float32) - TOP, axis=1) < 60
    assert red.mean() < 0.05
    grey = np.linalg.norm(comp.image[beside].astype(np.float32) - BACKDROP, axis=1) < 30
    assert grey.mean() > 0.9
    # The trousers are in front of what was the dress below the band.
    assert comp.garment_alpha[band_top + 30, 300] > 0.99


def test_full_length_trousers_reach_the_ankles_of_long_legs(person, long_trousers):
    """On legs longer than the waist width would make them, full-length trousers still end at the ankles
    (they used to stop at mid-shin)."""
    _, _, body = person
    tall = _with_legs(body, knee_drop=275.0, ankle_drop=530.0)
    kp = tall.kp
    warp = fit_garment(long_trousers, tall)
    for side in ("l", "r"):
        hem = (_target(warp, f"{side}_hem_out") + _target(warp, f"{side}_hem_in")) / 2
        assert kp[f"{side}_ankle"][1] - 5 < hem[1] < kp[f"{side}_ankle"][1] + 15


def test_flared_legs_touching_at_the_hems_are_still_two_legs(person):
    """Flared trousers photographed with their hems touching: the centre column leaves the garment at
    the crotch and comes back at the hems. Read as a skirt (one opening), they were bent into one
    twisted tube."""
    _, _, body = person
    img = np.full((700, 600, 3), 255, np.uint8)
    # Two legs from a shared seat, flaring until their inner edges meet again above the hem.
    cv2.fillPoly(img, [np.array([(200, 40), (400, 40), (470, 660), (130, 660)], np.int32)], GREEN)
    # (The gap runs out at the hem just beside the centre: the left hem crosses the centre line.)
    gap = [(300, 220), (322, 420), (318, 661), (310, 661), (296, 600), (278, 420)]
    cv2.fillPoly(img, [np.array(gap, np.int32)], (255, 255, 255))
    garment = analyze_garment(img, category="bottoms")
    lm = garment.landmarks
    scale = garment.alpha.shape[0] / 700
    assert "l_hem_in" in lm and "r_hem_in" in lm
    # At the top of the gap (its thin tip blurs away in the cut-out), far above the touching hems.
    assert 215 < lm["crotch"][1] / scale < 320
    warp = fit_garment(garment, body)
    mid_x = (body.kp["l_ankle"][0] + body.kp["r_ankle"][0]) / 2
    assert _target(warp, "l_hem_in")[0] > mid_x > _target(warp, "r_hem_in")[0]


def test_a_high_rise_cut_keeps_the_crotch_at_the_body_s(person):
    """A narrow waistband over a long rise: scaled with the waist, the crotch fell to the knees. It sits
    a little below the hip joints."""
    _, _, body = person
    img = np.full((700, 600, 3), 255, np.uint8)
    high_rise = [(250, 40), (350, 40), (430, 660), (310, 660), (300, 330), (290, 660), (170, 660)]
    cv2.fillPoly(img, [np.array(high_rise, np.int32)], GREEN)
    warp = fit_garment(analyze_garment(img, category="bottoms"), body)
    hip_y = (body.kp["l_hip"][1] + body.kp["r_hip"][1]) / 2
    torso = hip_y - body.kp["l_shoulder"][1]
    crotch_y = _target(warp, "crotch")[1]
    assert hip_y + 0.04 * torso < crotch_y < hip_y + 0.31 * torso


def test_a_skin_toned_print_on_old_bottoms_is_replaced_by_a_dress_but_bare_legs_are_not():
    """A one-piece replaces the old skirt, a tan-and-brown check whose tan squares pass the skin-colour
    test, and keeps the bare legs below it: tan specks of the print stayed in the made legs before."""
    from imaging.tryon.classical.compose import old_bottoms
    from imaging.tryon.classical.skin import sample_skin

    skirt = np.zeros((H, W), np.uint8)
    cv2.fillPoly(skirt, [np.array([(225, 450), (375, 450), (385, 650), (215, 650)], np.int32)], 1)
    skirt = skirt.astype(bool)
    top = np.zeros((H, W), np.uint8)
    cv2.fillPoly(top, [np.array([(225, 210), (375, 210), (375, 450), (225, 450)], np.int32)], 1)
    img, regions, body = _dressed(skirt | top.astype(bool), hip_line=450, one_piece=False)
    yy, xx = np.mgrid[:H, :W]
    check = ((yy // 4 + xx // 4) % 2).astype(bool)
    img[skirt & check] = SKIN
    img[skirt & ~check] = (90, 60, 40)
    old = old_bottoms(img, regions, body, sample_skin(img, regions, body))
    inner = cv2.erode(skirt.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert old[inner].mean() > 0.95
    shins = regions["lower_body"] & ~skirt & (yy > 700) & (yy < 850)
    assert shins.sum() > 3000 and not old[shins].any()
