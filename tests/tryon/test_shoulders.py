"""The old top's pieces above the shoulder line (labelled head or arm skin) are found by colour."""

from __future__ import annotations

import numpy as np

from imaging.tryon.classical.body import Body
from imaging.tryon.classical.compose import old_top_at_shoulders, skin_zone

from .shapes import front_keypoints

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


def test_a_skin_coloured_or_dark_top_is_left_alone():
    img, regions, body = _person()
    for colour in (SKIN, (30, 25, 20)):
        img2 = img.copy()
        img2[regions["upper_garment"]] = colour
        img2[120:140, 230:270] = colour
        out = old_top_at_shoulders(img2, regions, body)
        assert out["upper_garment"].sum() == regions["upper_garment"].sum()


def test_shoulder_tops_are_skin_under_a_sleeveless_garment_only():
    _, regions, body = _person()
    revealed = np.zeros((H, W), bool)
    revealed[120:150, 100:300] = True
    torso = np.zeros((H, W), np.float32)
    torso[160:330, 150:250] = 1
    bare = skin_zone(revealed, {"torso": torso}, regions, body)
    sleeved = skin_zone(revealed, {"torso": torso, "l_sleeve": torso * 0}, regions, body)
    assert bare[135, 260] and not sleeved[135, 260]
