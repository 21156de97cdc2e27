"""DWPose pre- and post-processing and the pose image on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.tryon.fashn_vton.dwpose import (
    MAX_BOXES,
    Pose,
    best_person,
    box_to_centre_scale,
    crop_for_pose,
    decode_anchors,
    decode_simcc,
    fix_aspect,
    letterbox,
    nms,
    person_boxes,
    select_pose,
    to_openpose,
    warp_matrix,
)
from imaging.tryon.fashn_vton.pose_image import JOINT_GRAY, LIMB_GRAY, draw_pose


def test_letterbox_is_top_left_on_gray():
    img = np.full((100, 200, 3), 7, np.uint8)
    inp, ratio = letterbox(img)
    assert inp.shape == (1, 3, 640, 640) and inp.dtype == np.float32
    assert ratio == pytest.approx(3.2)
    assert np.all(inp[0, :, :320, :] == 7) and np.all(inp[0, :, 320:, :] == 114)


def test_anchor_decoding():
    out = np.zeros((8400, 85))
    out[0, :4] = [0.5, 0.5, 0.0, np.log(2.0)]  # first stride-8 cell
    out[6400, :2] = [1.0, 0.0]  # first stride-16 cell
    out[8399, :2] = [0.0, 0.0]  # last stride-32 cell: grid (19, 19)
    dec = decode_anchors(out)
    assert list(dec[0, :4]) == [4.0, 4.0, 8.0, 16.0]
    assert list(dec[6400, :2]) == [16.0, 0.0]
    assert list(dec[8399, :2]) == [19 * 32.0, 19 * 32.0]


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 100, 100], [5, 5, 105, 105], [200, 200, 300, 300], [0, 0, 100, 40]], float)
    scores = np.array([0.8, 0.9, 0.5, 0.7])
    # box 1 suppresses box 0 (IoU ~0.82); box 3 overlaps box 1 by ~0.33 < 0.45 and stays.
    assert nms(boxes, scores, 0.45) == [1, 3, 2]


def _detector_output(cells: dict[int, tuple[float, float, float, float, float, float]]) -> np.ndarray:
    out = np.zeros((1, 8400, 85), np.float32)
    for i, (dx, dy, lw, lh, obj, cls0) in cells.items():
        out[0, i, :6] = [dx, dy, lw, lh, obj, cls0]
    return out


def test_person_boxes_thresholds_and_scale():
    # Stride-32 cell (10, 10): centre (320, 320); 4x8 strides -> 128x256 px; score 0.9 * 0.9.
    centre = 6400 + 1600 + 10 * 20 + 10
    weak = 6400 + 1600 + 2 * 20 + 2  # score 0.5 * 0.5 = 0.25: above NMS's 0.1, below the person 0.3
    out = _detector_output({centre: (0, 0, np.log(4), np.log(8), 0.9, 0.9), weak: (0, 0, 0, 0, 0.5, 0.5)})
    boxes, scores = person_boxes(out, ratio=0.5)
    assert len(boxes) == 1 and scores[0] == pytest.approx(0.81)
    np.testing.assert_allclose(boxes[0], np.array([256, 192, 384, 448]) / 0.5)


def test_person_boxes_are_capped_best_first():
    cells = {i * 37: (0, 0, 0, 0, 0.4 + 0.5 * i / 30, 1.0) for i in range(30)}  # 30 separate small boxes
    boxes, scores = person_boxes(_detector_output(cells), 1.0)
    assert len(boxes) == MAX_BOXES
    assert np.all(np.diff(scores) <= 0) and scores[0] == pytest.approx(0.4 + 0.5 * 29 / 30)


def test_box_to_model_crop_geometry():
    centre, scale = box_to_centre_scale(np.array([100, 50, 200, 450]))
    assert list(centre) == [150, 250] and list(scale) == [125, 500]
    assert list(fix_aspect(np.array([125.0, 500.0]), 288 / 384)) == [375, 500]  # widened, never shrunk
    m = warp_matrix(np.array([150.0, 250.0]), np.array([375.0, 500.0]), (288, 384))
    # The box centre goes to the crop's centre, and the scale maps 375 px to 288.
    np.testing.assert_allclose(m @ np.array([150, 250, 1.0]), [144, 192], atol=1e-4)
    np.testing.assert_allclose(m[:, :2], np.eye(2) * 288 / 375, atol=1e-6)
    crop, c, s = crop_for_pose(np.full((500, 300, 3), 200, np.uint8), np.array([100, 50, 200, 450]), (288, 384))
    assert crop.shape == (1, 3, 384, 288) and crop.dtype == np.float32
    # Inside the image the crop is (200 - mean) / std on each (BGR) channel.
    expected = (200 - np.array([123.675, 116.28, 103.53])) / [58.395, 57.12, 57.375]
    np.testing.assert_allclose(crop[0, :, 192, 144], expected, rtol=1e-5)


def test_simcc_decoding():
    sx = np.zeros((1, 2, 576), np.float32)
    sy = np.zeros((1, 2, 768), np.float32)
    sx[0, 0, 100], sy[0, 0, 301] = 0.9, 0.7  # score = the smaller maximum
    locs, vals = decode_simcc(sx, sy)
    assert list(locs[0, 0]) == [50.0, 150.5] and vals[0, 0] == pytest.approx(0.7)
    assert list(locs[0, 1]) == [-0.5, -0.5] and vals[0, 1] == 0  # no positive response: location -1 (/ 2)


def test_openpose_order_and_neck():
    kp = np.zeros((1, 133, 2))
    sc = np.zeros((1, 133))
    kp[0, 5], kp[0, 6], sc[0, 5], sc[0, 6] = [10, 20], [30, 40], 0.9, 0.8  # COCO left / right shoulder
    kp[0, 0], sc[0, 0] = [20, 5], 0.95  # nose
    kp[0, 50], sc[0, 50] = [1, 2], 0.5  # a face point: shifted by one by the inserted neck
    out_kp, out_sc = to_openpose(kp, sc)
    assert out_kp.shape == (1, 134, 2)
    assert list(out_kp[0, 1]) == [20, 30] and out_sc[0, 1] == 1  # neck: mean of the shoulders, visible
    assert list(out_kp[0, 2]) == [30, 40] and list(out_kp[0, 5]) == [10, 20]  # OpenPose: 2 right, 5 left shoulder
    assert list(out_kp[0, 0]) == [20, 5]
    assert list(out_kp[0, 51]) == [1, 2]
    sc[0, 6] = 0.2
    assert to_openpose(kp, sc)[1][0, 1] == 0  # one shoulder not visible: no neck


def test_best_person_prefers_big_and_confident():
    kp = np.zeros((2, 134, 2))
    sc = np.full((2, 134), 0.9)
    kp[0, 1:14] = np.random.default_rng(0).uniform(0, 50, (13, 2))  # small person
    kp[1, 1:14] = np.random.default_rng(1).uniform(0, 500, (13, 2))  # big person
    assert best_person(kp, sc) == 1
    sc[1, 1:14] = 0.31
    kp[1, 1:14] = np.random.default_rng(1).uniform(0, 60, (13, 2))
    assert best_person(kp, sc) == 0


def test_select_pose_normalises_and_hides_invisible_points():
    kp = np.full((1, 134, 2), 100.0)
    sc = np.full((1, 134), 0.9)
    sc[0, 3] = 0.1  # a body point
    sc[0, 100] = 0.2  # a hand point
    pose = select_pose(kp, sc, width=200, height=400, box=None)
    assert pose.body[0].tolist() == [0.5, 0.25]
    assert not pose.visible_body[3] and pose.visible_body.sum() == 17
    assert pose.body[3].tolist() == [0.5, 0.25]  # body coordinates kept; drawing skips it by score
    assert pose.hands.shape == (2, 21, 2) and pose.hands[0, 8].tolist() == [-1, -1]
    assert pose.face.shape == (68, 2)


def test_pose_image_draws_visible_limbs_in_their_grays():
    body = np.full((18, 2), -1.0)
    score = np.full(18, -1.0)
    body[1], body[2] = [0.5, 0.2], [0.3, 0.2]  # neck and right shoulder: limb 0 (joints 2-3 in 1-based)
    score[1] = score[2] = 0.9
    pose = Pose(body=body, body_score=score, hands=-np.ones((2, 21, 2)), face=-np.ones((68, 2)), box=None)
    img = draw_pose(pose, 200, 100)
    assert img.shape == (200, 100) and img.dtype == np.uint8
    assert img[40, 40] == int(LIMB_GRAY[0] * 0.6)  # on the limb, between the joints
    assert img[40, 50] == JOINT_GRAY[2]  # the neck's joint circle
    assert img[150, 50] == 0
    assert not draw_pose(Pose.empty(), 50, 40).any()  # flat-lay: an empty pose image


def _standing(box: bool = True) -> Pose:
    """A hand-made front-facing person in a 400-row image: shoulders at row 100, hips at row 200."""
    body = np.full((18, 2), -1.0)
    score = np.zeros(18)
    for joint, (x, y) in {1: (0.5, 0.25), 2: (0.4, 0.25), 5: (0.6, 0.25), 8: (0.45, 0.5), 11: (0.55, 0.5)}.items():
        body[joint], score[joint] = [x, y], 0.9
    return Pose(
        body=body,
        body_score=score,
        hands=-np.ones((2, 21, 2)),
        face=-np.ones((68, 2)),
        box=np.array([100.0, 50.0, 300.0, 390.0]) if box else None,
    )


def test_worn_or_flat_lay():
    from imaging.tryon.fashn_vton.preprocess import is_worn

    assert is_worn(_standing())
    assert not is_worn(_standing(box=False))  # no detection: a product shot
    headless = _standing()
    headless.body_score[[2, 5, 8]] = 0.1  # one torso joint left: a ghost mannequin or a detail shot
    assert not is_worn(headless)


def test_garment_band_and_isolation():
    from imaging.tryon.fashn_vton.preprocess import GRAY, garment_band, isolate_worn_garment

    pose = _standing()
    # torso 100 rows: tops from 20 above the shoulders to 60 below the hips; bottoms from the hips down.
    assert garment_band(pose, "tops", 400) == (80, 260)
    assert garment_band(pose, "bottoms", 400) == (180, 400)
    assert garment_band(pose, "one-pieces", 400) == (80, 400)
    rgb = np.full((400, 300, 3), 200, np.uint8)
    alpha = np.zeros((400, 300), np.float32)
    alpha[:, 100:200] = 1.0  # the cut-out: a vertical band (the person)
    out = isolate_worn_garment(rgb, pose, "tops", alpha)
    assert (out[100, 150] == 200).all() and (out[100, 50] == GRAY).all() and (out[300, 150] == GRAY).all()
