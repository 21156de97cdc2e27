"""Person analysis on skimage's astronaut (a real public-domain photo) and its failure codes."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from skimage import data

from imaging.errors import PipelineError
from imaging.tryon.classical.debug import draw_person_debug
from imaging.tryon.classical.person import REGION_NAMES, analyze_person


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


@pytest.fixture(scope="module")
def analysis(astronaut):
    return analyze_person(astronaut)


def code_of(image) -> str:
    with pytest.raises(PipelineError) as err:
        analyze_person(image)
    return err.value.code


def test_regions_shapes(analysis, astronaut):
    assert set(analysis.regions) == set(REGION_NAMES)
    for name, region in analysis.regions.items():
        assert region.shape == astronaut.shape[:2] and region.dtype == bool, name
    assert analysis.mask.dtype == bool and analysis.mask.any()
    assert (analysis.regions["background"] == ~analysis.mask).all()


def test_regions_disjoint_and_inside_mask(analysis):
    r = analysis.regions
    disjoint = ["face_hair_neck", "hands", "arms", "torso_skin", "lower_body", "background"]
    for a, b in itertools.combinations(disjoint, 2):
        assert not (r[a] & r[b]).any(), (a, b)
    for name in ("face_hair_neck", "hands", "arms", "torso_skin", "lower_body", "background"):
        assert not (r["upper_garment"] & r[name] & ~r["sleeves"]).any(), name
    assert not (r["arm_skin"] & r["sleeves"]).any()
    assert not (r["arm_skin"] & ~r["arms"]).any() and not (r["sleeves"] & ~r["arms"]).any()
    assert not (r["sleeves"] & ~r["upper_garment"]).any()
    for name in REGION_NAMES:
        if name != "background":
            assert not (r[name] & ~analysis.mask).any(), name


def test_regions_where_expected(analysis):
    r, kp = analysis.regions, analysis.keypoints
    nose = np.round(kp["nose"]).astype(int)
    assert r["face_hair_neck"][nose[1], nose[0]]
    # The orange suit fills the chest: the upper garment is there, big, and below the face.
    chest = np.round(kp["neck"] + (kp["mid_hip"] - kp["neck"]) * 0.5).astype(int)
    assert r["upper_garment"][chest[1] - 5 : chest[1] + 5, chest[0] - 5 : chest[0] + 5].all()
    assert r["upper_garment"].sum() > 0.1 * r["upper_garment"].size
    ys = np.nonzero(r["upper_garment"])[0]
    assert np.median(ys) > kp["nose"][1]
    face_ys = np.nonzero(r["face_hair_neck"])[0]
    assert np.median(face_ys) < kp["neck"][1]
    # The face gives the skin model; the suit's arms are sleeves, not skin.
    assert analysis.skin_from_face
    assert r["sleeves"].sum() > 5 * r["arm_skin"].sum()
    # The wall, flag and shuttle are background.
    assert r["background"][:40, :40].all() and r["background"][:40, -40:].all()


def test_keypoints(analysis, astronaut):
    kp = analysis.keypoints
    for name in (
        "l_shoulder",
        "r_shoulder",
        "l_elbow",
        "r_elbow",
        "l_wrist",
        "r_wrist",
        "l_hip",
        "r_hip",
        "neck",
        "nose",
    ):
        assert kp[name].shape == (2,)
    assert kp["l_shoulder"][0] > kp["neck"][0] > kp["r_shoulder"][0]  # person's left = image right here
    assert kp["nose"][1] < kp["neck"][1] < kp["mid_hip"][1]
    h, w = astronaut.shape[:2]
    assert 0 <= kp["neck"][0] < w and 0 <= kp["neck"][1] < h


def test_debug_overlay(analysis, astronaut):
    vis = draw_person_debug(analysis)
    assert vis.shape == astronaut.shape and vis.dtype == np.uint8
    assert (vis != astronaut).any(axis=2).mean() > 0.3


def test_no_person():
    assert code_of(np.full((600, 400, 3), 235, np.uint8)) == "NO_PERSON"


def test_person_too_small(astronaut):
    canvas = np.full((1024, 1024, 3), 200, np.uint8)
    canvas[400:560, 400:560] = cv2.resize(astronaut, (160, 160), interpolation=cv2.INTER_AREA)
    assert code_of(canvas) == "PERSON_TOO_SMALL"


def test_multiple_people(astronaut):
    assert code_of(np.hstack([astronaut, astronaut])) == "MULTIPLE_PEOPLE"
    gap = np.full((512, 100, 3), 200, np.uint8)
    assert code_of(np.hstack([astronaut, gap, astronaut[:, ::-1]])) == "MULTIPLE_PEOPLE"


def test_face_only(astronaut):
    assert code_of(np.ascontiguousarray(astronaut[20:260, 110:330])) == "UPPER_BODY_NOT_VISIBLE"


def _drawn_person():
    """A person drawn with known landmarks: skin face, neck and hands; a blue long-sleeved turtleneck
    whose cuffs reach past the wrist landmarks and whose collar rises above the shoulder line."""
    from imaging.tryon.classical.pose import Landmark

    h, w = 600, 400
    rng = np.random.default_rng(1)
    img = np.full((h, w, 3), 240, np.uint8)
    skin, blue = (205, 150, 120), (30, 50, 140)
    cv2.circle(img, (200, 95), 45, skin, -1)
    cv2.rectangle(img, (185, 120), (215, 170), skin, -1)
    cv2.fillPoly(img, [np.array([(140, 160), (260, 160), (245, 420), (155, 420)], np.int32)], blue)
    for sh, el, wr, cuff_end, hand in (
        ((260, 170), (280, 280), (290, 380), (291, 392), (293, 418)),
        ((140, 170), (120, 280), (110, 380), (109, 392), (107, 418)),
    ):
        cv2.circle(img, hand, 22, skin, -1)
        cv2.line(img, sh, el, blue, 36)
        cv2.line(img, el, cuff_end, blue, 30)
    cv2.rectangle(img, (176, 140), (224, 172), blue, -1)  # the turtleneck's collar
    img[420:, 150:250] = (60, 60, 60)  # trousers
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    mask = np.abs(img.astype(np.int16) - 240).max(axis=2) > 12
    kp = {
        "nose": (200, 90),
        "l_eye": (215, 80),
        "r_eye": (185, 80),
        "l_mouth": (210, 110),
        "r_mouth": (190, 110),
        "l_ear": (240, 90),
        "r_ear": (160, 90),
        "l_shoulder": (260, 170),
        "r_shoulder": (140, 170),
        "l_elbow": (280, 280),
        "r_elbow": (120, 280),
        "l_wrist": (290, 380),
        "r_wrist": (110, 380),
        "l_index": (296, 432),
        "r_index": (104, 432),
        "l_pinky": (284, 428),
        "r_pinky": (116, 428),
        "l_thumb": (304, 412),
        "r_thumb": (96, 412),
        "l_hip": (230, 400),
        "r_hip": (170, 400),
        "l_knee": (230, 500),
        "r_knee": (170, 500),
        "l_ankle": (230, 590),
        "r_ankle": (170, 590),
    }
    kp = {k: np.array(v, np.float32) for k, v in kp.items()}
    kp["neck"] = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    kp["mid_hip"] = (kp["l_hip"] + kp["r_hip"]) / 2
    return img, mask, kp, np.ones(len(Landmark), np.float32)


def test_old_cuffs_past_the_wrist_are_sleeve_and_a_high_collar_is_garment():
    from imaging.tryon.classical.person import _regions

    img, mask, kp, vis = _drawn_person()
    r = _regions(img, mask, kp, vis)[0]
    for cuff in ((291, 388), (109, 388)):  # blue, just past the wrist landmark, inside the hand capsule
        assert r["sleeves"][cuff[1], cuff[0]] and not r["hands"][cuff[1], cuff[0]]
    for hand in ((293, 425), (107, 425)):  # the skin of the hand stays hand
        assert r["hands"][hand[1], hand[0]]
    # The collar below the chin is the old garment, the face is still face.
    assert r["upper_garment"][150, 200] and not r["face_hair_neck"][150, 200]
    assert r["face_hair_neck"][90, 200]


def _bare_armed_person(arm_colour: tuple[int, int, int], legs_colour: tuple[int, int, int]):
    """The drawn person in a sleeveless blue top, arms bare in ``arm_colour``, the lower body in
    ``legs_colour``."""
    img, mask, kp, vis = _drawn_person()
    blue = (30, 50, 140)
    for sh, el, wr in (((260, 170), (280, 280), (290, 380)), ((140, 170), (120, 280), (110, 380))):
        cv2.line(img, sh, el, arm_colour, 36)
        cv2.line(img, el, wr, arm_colour, 30)
    cv2.fillPoly(img, [np.array([(150, 160), (250, 160), (245, 420), (155, 420)], np.int32)], blue)
    img[420:, 150:250] = legs_colour
    rng = np.random.default_rng(2)
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    mask = np.abs(img.astype(np.int16) - 240).max(axis=2) > 12
    return img, mask, kp, vis


def test_bare_arms_in_other_light_than_the_face_are_skin_not_sleeves():
    """Forearms in shade fall outside the face's tight skin model (about 4 of its deviations away), but
    far from the top's colours: they are bare skin. As sleeves they were old garment, shaded the new
    sleeves with their blotches and were remade as skin under a sleeveless garment."""
    from imaging.tryon.classical.person import _regions

    img, mask, kp, vis = _bare_armed_person((150, 100, 85), (60, 60, 60))
    r = _regions(img, mask, kp, vis)[0]
    forearms = np.zeros(mask.shape, np.uint8)
    for el, wr in (((280, 290), (288, 370)), ((120, 290), (112, 370))):
        cv2.line(forearms, el, wr, 1, 16)
    forearms = forearms.astype(bool)
    assert r["arm_skin"][forearms].mean() > 0.8
    assert r["sleeves"][forearms].mean() < 0.1
    # The top itself stays the old garment.
    assert r["upper_garment"][300, 200]


def test_one_piece_is_told_from_a_top_and_trousers():
    from imaging.tryon.classical.person import _regions

    blue = (30, 50, 140)
    *_, one_piece = _regions(*_bare_armed_person((205, 150, 120), blue))
    assert one_piece
    *_, one_piece = _regions(*_bare_armed_person((205, 150, 120), (60, 60, 60)))
    assert not one_piece


def test_a_skin_toned_print_beside_the_forearm_is_the_skirt_not_the_arm():
    """A high-waisted skirt in a tan-and-brown check (its tan squares pass the skin test) reaching out
    to the hanging forearms: inside the arms' capsules it is skirt, busy where skin is smooth. As arm
    skin it stayed in front of a new dress, in specks beside the made arm."""
    from imaging.tryon.classical.person import _regions

    img, mask, kp, vis = _drawn_person()
    img[150:, :] = 240
    skin, blue = (205, 150, 120), (30, 50, 140)
    cv2.fillPoly(img, [np.array([(150, 160), (250, 160), (245, 300), (155, 300)], np.int32)], blue)
    skirt = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(skirt, [np.array([(120, 300), (280, 300), (300, 560), (100, 560)], np.int32)], 1)
    yy, xx = np.mgrid[: mask.shape[0], : mask.shape[1]]
    check = ((yy // 4 + xx // 4) % 2).astype(bool)
    img[skirt.astype(bool) & check] = skin
    img[skirt.astype(bool) & ~check] = (90, 60, 40)
    arms = np.zeros(mask.shape, np.uint8)
    for sh, el, wr in (((260, 170), (280, 280), (290, 380)), ((140, 170), (120, 280), (110, 380))):
        cv2.line(arms, sh, el, 1, 36)
        cv2.line(arms, el, wr, 1, 30)
    img[arms.astype(bool)] = skin
    rng = np.random.default_rng(3)
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    mask = np.abs(img.astype(np.int16) - 240).max(axis=2) > 12
    r = _regions(img, mask, kp, vis)[0]
    # The skirt's tan squares within a few pixels of the forearms (inside their capsules).
    near = cv2.dilate(arms, np.ones((9, 9), np.uint8)).astype(bool) & ~arms.astype(bool)
    beside = near & skirt.astype(bool) & check & (yy > 310) & (yy < 355)  # (above the hands)
    assert beside.sum() > 20
    assert not r["arm_skin"][beside].any()
    assert r["lower_body"][beside].mean() > 0.9
    # The forearms themselves stay bare arm.
    for x, y in ((287, 340), (113, 340)):
        assert r["arm_skin"][y, x]
