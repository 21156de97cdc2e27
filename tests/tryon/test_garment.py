"""Garment analysis on garments drawn in the test: category, landmarks, failure code."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imaging.errors import PipelineError
from imaging.tryon.classical.garment import analyze_garment
from imaging.tryon.classical.silhouette import classify_silhouette, separation_problem

from .shapes import LONG_SLEEVED_TEE

RED = (200, 30, 40)


def draw(points: list[tuple[int, int]], size=(600, 600), colour=RED) -> np.ndarray:
    img = np.full((*size, 3), 255, np.uint8)
    cv2.fillPoly(img, [np.array(points, np.int32)], colour)
    return img


TSHIRT = [
    (240, 80),
    (300, 110),
    (360, 80),
    (450, 110),
    (540, 230),
    (470, 280),
    (430, 230),
    (430, 540),
    (170, 540),
    (170, 230),
    (130, 280),
    (60, 230),
    (150, 110),
]
TROUSERS = [(200, 40), (400, 40), (420, 560), (330, 560), (300, 220), (270, 560), (180, 560)]
DRESS = [(250, 40), (350, 40), (380, 120), (370, 250), (440, 580), (160, 580), (230, 250), (220, 120)]
TANK = [
    (210, 60),
    (235, 60),
    (255, 150),
    (345, 150),
    (365, 60),
    (390, 60),
    (410, 180),
    (420, 330),
    (180, 330),
    (190, 180),
]


def test_tshirt_category_and_landmarks():
    g = analyze_garment(draw(TSHIRT))
    assert g.category == "tops"
    lm = g.landmarks
    # Offsets of the crop: the drawing's leftmost point (60) sits near the crop's left edge.
    x_off = 60 - float(np.nonzero(g.mask)[1].min())
    y_off = 80 - float(np.nonzero(g.mask)[0].min())

    def at(name):
        return lm[name] + np.array([x_off, y_off])

    # Wearer's left is image right.
    assert at("l_shoulder")[0] > at("r_shoulder")[0]
    assert at("l_shoulder")[0] == pytest.approx(450, abs=30) and at("r_shoulder")[0] == pytest.approx(150, abs=30)
    assert at("l_armpit")[0] == pytest.approx(430, abs=12) and at("l_armpit")[1] == pytest.approx(230, abs=30)
    assert at("r_armpit")[0] == pytest.approx(170, abs=12)
    assert at("l_neck")[1] < at("l_armpit")[1] and abs(at("neck_center")[0] - 300) < 15
    assert at("l_hem")[1] == pytest.approx(540, abs=15) and at("l_hem")[0] == pytest.approx(430, abs=12)
    # Both sleeves found, cuffs out at the sleeve ends.
    assert set(g.sleeves) == {"l", "r"}
    assert at("l_cuff")[0] > 470 and at("r_cuff")[0] < 130
    for s in g.sleeves.values():
        assert s.mask.sum() > 0 and not (s.mask & g.torso_mask).any()
    # The garment's colour survives the cutout.
    assert np.abs(np.median(g.rgb[g.mask], axis=0) - RED).max() < 10


def test_trousers_are_bottoms_with_legs():
    g = analyze_garment(draw(TROUSERS))
    assert g.category == "bottoms"
    lm = g.landmarks
    assert lm["l_waist"][0] > lm["r_waist"][0]
    assert lm["crotch"][1] > lm["l_waist"][1] + 100  # the crotch is well below the waistband
    for side in ("l", "r"):
        assert lm[f"{side}_hem_out"][1] > lm["crotch"][1]
    assert lm["l_hem_in"][0] < lm["l_hem_out"][0] and lm["r_hem_in"][0] > lm["r_hem_out"][0]


def test_dress_is_one_piece_and_tank_has_no_sleeves():
    assert analyze_garment(draw(DRESS)).category == "one-pieces"
    tank = analyze_garment(draw(TANK))
    assert tank.category == "tops"
    assert tank.sleeves == {}
    # Strap tops: shoulders near the top, neckline dip between them.
    assert tank.landmarks["neck_center"][1] > tank.landmarks["l_shoulder"][1] + 40


def test_category_can_be_forced():
    assert analyze_garment(draw(TSHIRT), category="one-pieces").category == "one-pieces"
    with pytest.raises(PipelineError) as exc:
        analyze_garment(draw(TSHIRT), category="hats")
    assert exc.value.code == "BAD_CATEGORY"


def test_blank_photo_is_no_garment():
    with pytest.raises(PipelineError) as exc:
        analyze_garment(np.full((400, 300, 3), 250, np.uint8))
    assert exc.value.code == "NO_GARMENT"
    # A speck is not a garment either.
    with pytest.raises(PipelineError) as exc:
        analyze_garment(draw([(10, 10), (20, 10), (20, 20)]), alpha=None)
    assert exc.value.code == "NO_GARMENT"


def test_classify_silhouette_on_masks():
    def mask(points):
        m = np.zeros((600, 600), np.uint8)
        cv2.fillPoly(m, [np.array(points, np.int32)], 1)
        return m.astype(bool)

    assert classify_silhouette(mask(TSHIRT)) == "tops"
    assert classify_silhouette(mask(TROUSERS)) == "bottoms"
    assert classify_silhouette(mask(DRESS)) == "one-pieces"


def striped_long_sleeve(size=(600, 600)) -> np.ndarray:
    """Navy/white stripes on white: a torso, two long sleeves hanging beside it, the cuffs touching
    the hem so the background gap between arm and torso is enclosed."""
    img = np.full((*size, 3), 250, np.uint8)
    body = np.zeros(size, np.uint8)
    cv2.fillPoly(body, [np.array([(200, 80), (400, 80), (410, 520), (190, 520)], np.int32)], 1)  # torso
    cv2.fillPoly(body, [np.array([(200, 80), (150, 110), (110, 480), (175, 480), (175, 150), (200, 140)], np.int32)], 1)
    cv2.fillPoly(body, [np.array([(400, 80), (450, 110), (490, 480), (425, 480), (425, 150), (400, 140)], np.int32)], 1)
    body[470:490, 110:200] = 1  # cuffs touching the torso
    body[470:490, 400:490] = 1
    stripes = (np.arange(size[0]) // 12) % 2 == 0
    colour = np.where(stripes[:, None, None], np.array([20, 30, 70], np.uint8), np.array([250, 250, 250], np.uint8))
    img[body > 0] = np.broadcast_to(colour, (*size, 3))[body > 0]
    return img


def test_striped_long_sleeves_are_found_and_the_arm_gap_stays_open():
    img = striped_long_sleeve()
    g = analyze_garment(img)
    assert g.category == "tops"
    assert set(g.sleeves) == {"l", "r"}
    # The sleeves hang down: each cuff is far below its shoulder, near the sleeve's bottom.
    for s in g.sleeves.values():
        assert s.cuff[1] - s.shoulder[1] > 0.5 * g.mask.shape[0]
    # The background gap between each sleeve and the torso is not garment.
    x0 = 110 - float(np.nonzero(g.mask)[1].min())
    y0 = 80 - float(np.nonzero(g.mask)[0].min())
    for gx in (188, 412):
        assert not g.mask[int(350 - y0), int(gx - x0)]


def test_wide_silhouette_without_a_clear_armpit_still_gets_sleeves():
    # A boxy tee whose sleeves merge into the sides through a long slope (no sharp jump in
    # the run): the outer parts well beyond the torso's band are sleeves, not torso.
    shape = [
        (240, 80),
        (300, 100),
        (360, 80),
        (470, 110),
        (560, 200),
        (530, 300),
        (430, 330),
        (430, 560),
        (170, 560),
        (170, 330),
        (70, 300),
        (40, 200),
        (130, 110),
    ]
    g = analyze_garment(draw(shape))
    assert set(g.sleeves) == {"l", "r"}
    for s in g.sleeves.values():
        assert s.mask.sum() > 0.03 * g.mask.sum()


def test_separation_problem_accepts_a_garment_silhouette():
    mask = draw(TSHIRT)[..., 1] < 128
    assert separation_problem(mask) == ""


@pytest.mark.parametrize("kind", ["fragments", "ring", "strip", "print_only"])
def test_unseparable_cutouts_are_rejected_with_an_explicit_code(kind):
    mask = np.zeros((600, 600), np.uint8)
    if kind == "fragments":  # a white garment's print and seams, scattered
        for i, (x, y) in enumerate([(150, 150), (420, 160), (160, 430), (430, 440), (300, 300)]):
            cv2.circle(mask, (x, y), 40 + 3 * i, 1, -1)
    elif kind == "ring":  # only the outline of a garment (its seams) survived
        cv2.polylines(mask, [np.array(TSHIRT, np.int32)], True, 1, 12)
    elif kind == "strip":  # a hem band alone
        mask[500:540, 60:560] = 1
    else:  # a print in the middle of a white-on-white shirt
        cv2.circle(mask, (300, 300), 55, 1, -1)
    assert separation_problem(mask.astype(bool)) != ""
    img = np.full((600, 600, 3), 255, np.uint8)
    with pytest.raises(PipelineError) as exc:
        analyze_garment(img, alpha=mask.astype(np.float32))
    assert exc.value.code == "GARMENT_NOT_SEPARABLE"
    assert "plain background" in exc.value.message


def test_a_print_alone_on_the_backdrop_is_not_separable():
    # Nothing but the print and lettering stands out: there is no garment outline to find.
    img = np.full((600, 600, 3), 250, np.uint8)
    cv2.circle(img, (300, 300), 60, (200, 30, 40), -1)
    cv2.putText(img, "HELLO", (200, 420), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (20, 20, 120), 4)
    with pytest.raises(PipelineError) as exc:
        analyze_garment(img)
    assert exc.value.code == "GARMENT_NOT_SEPARABLE"


def test_a_white_shirt_two_levels_off_its_white_backdrop_is_cut_out_whole():
    # The shirt differs from the backdrop by 2 levels; the cut-out's stretched second look finds its
    # outline, not only the print.
    img = np.full((600, 600, 3), 250, np.uint8)
    cv2.fillPoly(img, [np.array(TSHIRT, np.int32)], (248, 248, 248))
    cv2.circle(img, (300, 300), 60, (200, 30, 40), -1)
    cv2.putText(img, "HELLO", (200, 420), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (20, 20, 120), 4)
    drawn = np.zeros((600, 600), np.uint8)
    cv2.fillPoly(drawn, [np.array(TSHIRT, np.int32)], 1)
    g = analyze_garment(img)
    assert g.category == "tops"
    assert abs(int(g.mask.sum()) - int(drawn.sum())) < 0.03 * drawn.sum()


def test_garment_edge_has_no_light_fringe():
    # Anti-aliased and blurred edges on white: the cut-out's rim must carry the garment's colour,
    # not a pale mix (it would show as white slivers where a sleeve lies over the torso).
    img = np.full((600, 600, 3), 255, np.uint8)
    cv2.fillPoly(img, [np.array(TSHIRT, np.int32)], RED, lineType=cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 1.5)
    g = analyze_garment(img)
    rim = g.mask & ~cv2.erode(g.mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert rim.sum() > 100
    assert np.percentile(g.rgb[rim].astype(int).sum(axis=1), 95) < sum(RED) + 60


def test_inner_back_seen_through_the_neckline_is_left_out_of_the_front():
    # A light tee whose silhouette dips only a little at the back of the neck, with the
    # darker inside of the back drawn under it, held off the chest by the front fabric.
    shape = [(300, 90) if p == (300, 110) else p for p in TSHIRT]
    plain = draw(shape, colour=(230, 200, 190))
    with_panel = plain.copy()
    cv2.ellipse(with_panel, (300, 90), (48, 30), 0, 0, 180, (110, 105, 100), -1)
    for img, panel in ((plain, False), (with_panel, True)):
        g = analyze_garment(img)
        ys, xs = np.nonzero(g.alpha > 0.5)
        oy, ox = 80 - ys.min(), 60 - xs.min()  # the crop starts this far into the drawing
        assert g.alpha[105 - oy, 300 - ox] < 0.5 if panel else g.alpha[105 - oy, 300 - ox] > 0.5
        assert g.alpha[300 - oy, 300 - ox] > 0.5  # the chest stays
        assert g.alpha[130 - oy, 300 - ox] > 0.5  # the front fabric under the neckline stays


def test_dark_print_running_down_from_the_neckline_stays_on_the_front():
    # A dark graphic from just under the neckline down the chest is not the inside of the
    # back: no front fabric holds it off the chest, so the front piece keeps all of it.
    shape = [(300, 90) if p == (300, 110) else p for p in TSHIRT]
    img = draw(shape, colour=(230, 200, 190))
    cv2.rectangle(img, (282, 100), (318, 300), (40, 40, 40), -1)
    g = analyze_garment(img)
    ys, xs = np.nonzero(g.alpha > 0.5)
    oy, ox = 80 - ys.min(), 60 - xs.min()
    assert (g.alpha[100 - oy : 300 - oy, 282 - ox : 318 - ox] > 0.5).all()


# Flared trousers were once taken for a top (the hems meet at the centre, so the centre
# column is filled to the bottom), and skirts and shorts had no rule of their own.
# Flares with the right leg wider (one leg's hem swings out): the centre column runs down a leg.
FLARES_TOUCHING = [
    (200, 40),
    (400, 40),
    (420, 300),
    (560, 580),
    (315, 580),
    (300, 270),
    (285, 580),
    (150, 580),
    (200, 300),
]
SKIRT = [(220, 100), (380, 100), (470, 460), (130, 460)]
SHORTS = [(170, 150), (430, 150), (460, 420), (320, 420), (300, 300), (280, 420), (140, 420)]


@pytest.mark.parametrize(
    "points,category",
    [
        (FLARES_TOUCHING, "bottoms"),
        (SKIRT, "bottoms"),
        (SHORTS, "bottoms"),
        (TSHIRT, "tops"),
        (TANK, "tops"),
        (DRESS, "one-pieces"),
    ],
)
def test_classify_silhouette_trousers_skirts_shorts(points, category):
    m = np.zeros((600, 600), np.uint8)
    cv2.fillPoly(m, [np.array(points, np.int32)], 1)
    assert classify_silhouette(m.astype(bool)) == category


def test_flared_trousers_photo_is_bottoms():
    assert analyze_garment(draw(FLARES_TOUCHING)).category == "bottoms"
    assert analyze_garment(draw(SKIRT)).category == "bottoms"


def test_sleeves_laid_along_the_sides_have_their_armpits_high():
    """Long sleeves laid down over the torso's sides, parting from it only at a slit low down (the usual
    flat lay of a long-sleeved tee): the armpits sit near the top, not at the slit or the cuff, so the
    sleeves are laid along the arms and the torso keeps its proportions."""
    g = analyze_garment(draw(LONG_SLEEVED_TEE))
    assert g.category == "tops"
    assert set(g.sleeves) == {"l", "r"}
    top, bottom = np.nonzero(g.mask)[0].min(), np.nonzero(g.mask)[0].max()
    height = bottom - top
    for side in ("l", "r"):
        assert g.landmarks[f"{side}_armpit"][1] - top < 0.4 * height
        sleeve = g.sleeves[side]
        assert sleeve.cuff[1] - top > 0.75 * height  # the cuff stays at the sleeve's end
        assert sleeve.shoulder[1] - top < 0.3 * height


def _strappy(body_height: int) -> np.ndarray:
    """Two thin straps 200 px long over a 200 px wide body of the given height."""
    m = np.zeros((900, 600), np.uint8)
    cv2.rectangle(m, (230, 40), (240, 260), 1, -1)
    cv2.rectangle(m, (360, 40), (370, 260), 1, -1)
    cv2.fillPoly(
        m, [np.array([(205, 240), (395, 240), (405, 240 + body_height), (195, 240 + body_height)], np.int32)], 1
    )
    return m.astype(bool)


def test_long_camisole_is_a_top_and_a_slip_dress_a_one_piece():
    """Straps do not count towards a garment's height: a hip-length camisole, taller than 1.5 widths
    only with its straps, is a top; a slip dress, tall without them, is a one-piece."""
    camisole = _strappy(260)
    ys, xs = np.nonzero(camisole)
    assert (ys.max() - ys.min()) / (xs.max() - xs.min()) > 1.5  # with the straps it looks like a dress
    assert classify_silhouette(camisole) == "tops"
    assert classify_silhouette(_strappy(520)) == "one-pieces"


def test_deep_v_camisole_has_its_armpits_and_waist_at_its_sides():
    """A camisole whose V-neck runs down to where its sides are already straight: the rows at the V's
    tip hold a run starting at the centre, which is neither an arm hole nor a waist."""
    img = np.full((600, 600, 3), 255, np.uint8)
    # The V's tip a little off the centre column, as a photographed neckline's is.
    body = np.array([(150, 150), (304, 330), (450, 150), (450, 500), (150, 500)], np.int32)
    cv2.fillPoly(img, [body], RED)
    cv2.rectangle(img, (160, 40), (172, 160), RED, -1)  # straps
    cv2.rectangle(img, (428, 40), (440, 160), RED, -1)
    g = analyze_garment(img, category="tops")
    xs = np.nonzero(g.mask)[1]
    left, right = xs.min(), xs.max()
    width = right - left
    lm = g.landmarks
    for name in ("armpit", "waist"):
        assert lm[f"r_{name}"][0] - left < 0.1 * width, name  # the image's left side
        assert right - lm[f"l_{name}"][0] < 0.1 * width, name


def test_a_white_garment_s_shaded_side_is_no_slit_unless_the_cutout_left_it_out():
    """A white tee on a near-white backdrop: a long strip of its shaded side has the backdrop's colour,
    shading into the fabric with no edge on its inner side. The cutout kept it (solid fabric), so it
    stays; the same strip that the cutout called backdrop (a gap between a hanging sleeve and the torso,
    filled in as a hole afterwards) is opened again."""
    from imaging.tryon.classical.silhouette import background_slits

    h, w = 600, 400
    rgb = np.full((h, w, 3), 236, np.uint8)  # the backdrop
    mask = np.zeros((h, w), bool)
    mask[60:560, 80:320] = True
    rgb[mask] = 252  # white fabric
    rgb[150:500, 100:112] = 236  # its shaded side, as light as the backdrop...
    rgb[150:500, 112:124] = np.linspace(238, 250, 12).astype(np.uint8)[None, :, None]  # ...shading into it
    kept = np.ones((h, w), np.float32) * mask
    assert not background_slits(rgb, mask, kept)[200:450, 100:112].any()
    left_out = kept.copy()
    left_out[150:500, 100:112] = 0.0
    assert background_slits(rgb, mask, left_out)[200:450, 100:112].mean() > 0.9


def test_long_sleeves_lying_against_a_dress_to_their_cuffs_have_the_armpit_of_a_usual_cut():
    """A long dress photographed with its long sleeves lying flat against its sides down to the cuffs,
    with no slit under them at all: the run widens only at the cuffs, which is no armpit. Taken for
    one, the dress's whole bodice was squeezed above the body's armpits and its warp folded."""
    dress = [
        (260, 60),
        (300, 75),
        (340, 60),
        (390, 80),
        (430, 120),
        (445, 450),
        (400, 450),
        (420, 950),
        (180, 950),
        (200, 450),
        (155, 450),
        (170, 120),
        (210, 80),
    ]
    g = analyze_garment(draw(dress, size=(1000, 600)), category="one-pieces")
    top, bottom = np.nonzero(g.mask)[0].min(), np.nonzero(g.mask)[0].max()
    for side in ("l", "r"):
        assert g.landmarks[f"{side}_armpit"][1] - top < 0.2 * (bottom - top)
        assert g.sleeves[side].cuff[1] - top > 0.35 * (bottom - top)  # the cuffs stay at the sleeves' ends
