"""The old top's pieces above the shoulder line (labelled head or arm skin) are found by colour and
replaced; hair of the same colour is not; the self-check sees old top left at the shoulders."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imaging.tryon.classical import compose as compose_module
from imaging.tryon.classical.body import Body
from imaging.tryon.classical.categories import garment_category
from imaging.tryon.classical.compose import compose, old_top_at_shoulders, skin_zone
from imaging.tryon.classical.selfcheck import self_check
from imaging.types import Category

from .shapes import PastedLayers, front_keypoints

SKIN = (150, 100, 70)
YELLOW = (235, 210, 115)
H = W = 400


def _person():
    kp = front_keypoints()
    body = Body(shape=(H, W), kp=kp, torso=np.zeros((H, W), bool), arms=np.zeros((H, W), bool))
    img = np.full((H, W, 3), SKIN, np.uint8)
    top = np.zeros((H, W), bool)
    top[140:330, 130:270] = True  # the analysis cut the top off at the shoulder line
    img[top] = YELLOW
    img[120:140, 230:270] = YELLOW  # the T-shirt's shoulder, above that line
    img[20:60, 150:250] = (30, 25, 20)  # hair
    head = np.zeros((H, W), bool)
    head[0:140, 100:300] = True
    return img, {"face_hair_neck": head, "upper_garment": top}, body


def test_old_top_above_the_shoulder_line_is_moved_to_the_garment():
    img, regions, body = _person()
    out = old_top_at_shoulders(img, regions, body)
    assert out["upper_garment"][120:140, 232:268].all()
    assert not out["face_hair_neck"][125:135, 235:265].any()
    # Skin and hair stay where they were.
    assert out["face_hair_neck"][125:135, 180:220].all() and out["face_hair_neck"][30:50, 160:240].all()


def test_a_skin_coloured_top_is_left_alone():
    img, regions, body = _person()
    img[regions["upper_garment"]] = SKIN
    img[120:140, 230:270] = SKIN
    out = old_top_at_shoulders(img, regions, body)
    assert out["upper_garment"].sum() == regions["upper_garment"].sum()


def test_a_dark_top_s_strap_is_moved_but_hair_of_its_colour_is_not():
    """A black top's strap rising over the shoulder from the top is the top's; a lock of hair of the
    same black hanging from the head down to the top is hair."""
    img, regions, body = _person()
    dark = (30, 25, 20)
    img[regions["upper_garment"]] = dark
    img[120:140, 230:270] = SKIN
    img[100:140, 240:250] = dark  # the strap, on the shoulder
    img[20:140, 150:165] = dark  # the lock, from the hair on the head down to the top
    out = old_top_at_shoulders(img, regions, body)
    assert out["upper_garment"][102:140, 241:249].all()
    assert not out["face_hair_neck"][102:140, 241:249].any()
    assert out["face_hair_neck"][20:140, 150:165].all()
    assert not out["upper_garment"][:140, 150:165].any()


def test_shoulder_tops_are_skin_under_a_sleeveless_garment_only():
    _, regions, body = _person()
    revealed = np.zeros((H, W), bool)
    revealed[120:150, 100:300] = True
    torso = np.zeros((H, W), np.float32)
    torso[160:330, 150:250] = 1
    bare = skin_zone(revealed, {"torso": torso}, regions, body)
    sleeved = skin_zone(revealed, {"torso": torso, "l_sleeve": torso * 0}, regions, body)
    assert bare[135, 260] and not sleeved[135, 260]
    # Beside a high neckline too (the new garment rises above the shoulders' tops but misses their columns).
    high = np.zeros((H, W), np.float32)
    high[100:330, 150:250] = 1
    assert skin_zone(revealed, {"torso": high}, regions, body)[135, 262]


def test_an_old_sleeve_s_cap_is_skin_under_a_sleeveless_garment_down_to_the_armpit_only():
    """Beside the arm's anatomical width, the old sleeve's cap at the shoulder (the deltoid) becomes
    skin under a sleeveless garment; as far off the arm lower down, it does not."""
    _, regions, body = _person()
    sleeve = np.zeros((H, W), bool)
    sleeve[120:260, 80:150] = True
    regions = {**regions, "sleeves": sleeve, "arms": sleeve}
    torso = np.zeros((H, W), np.float32)
    torso[160:330, 150:250] = 1
    revealed = sleeve.copy()
    bare = skin_zone(revealed, {"torso": torso}, regions, body)
    sleeved = skin_zone(revealed, {"torso": torso, "r_sleeve": torso * 0}, regions, body)
    # 24 px out from the shoulder joint (its half width there is 21 px) at the shoulder line, and
    # about as far out, in half widths, from the upper arm lower down.
    assert bare[140, 106] and not sleeved[140, 106]
    assert not bare[210, 100]


DARK = (25, 25, 28)


def _dressed_person():
    """A person in a black top on a grey backdrop: the analysis cut the top at the shoulder line, so
    the top's shoulder (a broad strap) on the person's left counts as head, and so does a black lock of
    hair hanging from the head down the right shoulder to the top. The new garment is a green
    sleeveless one, narrower than the old top."""
    rng = np.random.default_rng(1)
    img = np.clip(np.full((H, W, 3), 200.0) + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
    person = np.zeros((H, W), np.uint8)
    cv2.circle(person, (200, 70), 45, 1, -1)
    person[100:140, 180:220] = 1  # the neck
    person[120:140, 110:290] = 1  # the shoulders
    person[140:330, 110:290] = 1
    person[15:45, 160:240] = 1  # the hair on the head...
    person[15:140, 160:172] = 1  # ...and the lock hanging from it
    person = person.astype(bool)
    img[person] = SKIN
    img[15:45, 160:240] = DARK  # hair on the head
    top = np.zeros((H, W), bool)
    top[140:330, 110:290] = True
    img[top] = DARK
    img[120:140, 245:285] = DARK  # the old top's shoulder
    img[15:140, 160:172] = DARK  # the lock of hair
    head = person & ~top
    empty = np.zeros((H, W), bool)
    regions = {
        "face_hair_neck": head,
        "upper_garment": top,
        "sleeves": empty,
        "arms": empty,
        "arm_skin": empty,
        "hands": empty,
        "torso_skin": empty,
        "lower_body": empty,
    }
    kp = front_keypoints()
    body = Body(shape=(H, W), kp=kp, torso=top, arms=empty)
    alpha = np.zeros((H, W), np.float32)
    alpha[150:330, 150:240] = 1
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[:] = (40, 170, 70)
    return img, regions, body, PastedLayers(rgb, alpha)


def test_a_dark_strap_left_at_the_shoulder_is_replaced_and_the_hair_kept():
    img, regions, body, warp = _dressed_person()
    comp = compose(img, regions, body, warp, garment_category("tops"))
    strap = comp.image[122:138, 247:283].reshape(-1, 3).astype(float)
    # Skin where the old shoulder was: far from its black, of the skin's hue (made a little darker by
    # the old top's light, which it carries).
    assert (np.linalg.norm(strap - DARK, axis=1) > 60).all()
    mean = strap.mean(axis=0)
    assert np.abs(mean / mean.sum() - np.array(SKIN) / sum(SKIN)).max() < 0.03
    # The lock, untouched down to where it meets the old top (the edit's rim blends a row or two).
    assert np.array_equal(comp.image[15:137, 160:172], img[15:137, 160:172])
    check = self_check(comp, body, Category.TOPS)
    assert check.old_visible < 0.01


def test_the_self_check_sees_old_top_left_at_the_shoulder(monkeypatch: pytest.MonkeyPatch):
    """The same person with the old shoulder left in place (the analysis's regions as they were): the
    self-check's old_visible rises, though the old garment's own region is all replaced."""
    img, regions, body, warp = _dressed_person()
    monkeypatch.setattr(compose_module, "old_top_at_shoulders", lambda rgb, regions, body: regions)
    comp = compose(img, regions, body, warp, garment_category("tops"))
    assert (comp.image[122:138, 247:283] == DARK).all(axis=-1).mean() > 0.5  # the old shoulder shows
    assert not (comp.old & ~comp.edited_mask).any()
    check = self_check(comp, body, Category.TOPS)
    assert check.old_visible > 0.05
    # The hair is not counted: only the old shoulder shows in the old top's colour.
    assert comp.old_top_left is not None and not comp.old_top_left[:, :200].any()


def test_a_raised_shoulder_of_a_dark_top_is_the_top_and_hair_reaches_past_the_mouth():
    """A person standing at an angle raises one shoulder: the dark top's shoulder there rises above the
    shoulder band, but never up to the face. Hair of its colour hangs from the head, past the mouth."""
    img, regions, body = _person()
    body.kp["l_mouth"] = np.array([210.0, 70.0])
    body.kp["r_mouth"] = np.array([190.0, 70.0])
    dark = (30, 25, 20)
    img[regions["upper_garment"]] = dark
    img[120:140, 230:270] = SKIN
    img[84:140, 235:270] = dark  # the raised shoulder: up to 56 px (0.4 shoulder widths) above the line
    img[20:140, 150:165] = dark  # the lock, from the hair on the head down to the top
    out = old_top_at_shoulders(img, regions, body)
    assert out["upper_garment"][92:140, 237:268].all()  # (all of it within the shoulder band)
    assert out["face_hair_neck"][20:140, 150:165].all()
