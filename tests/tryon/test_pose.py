"""BlazePose chain on a real photo (skimage's astronaut, public domain) and on images with nobody in them."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from imaging.errors import PipelineError
from imaging.tryon.classical.pose import Landmark, anchors, detect_people, detect_pose


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


@pytest.fixture(scope="module")
def pose(astronaut):
    return detect_pose(astronaut)


def test_anchors_match_mediapipe_layout():
    a = anchors()
    assert a.shape == (2254, 2)
    # 28x28 grid with 2 anchors per cell first; the first cell centre is half a stride in.
    assert np.allclose(a[0], [0.5 / 28, 0.5 / 28]) and np.allclose(a[1], a[0])
    assert np.allclose(a[2], [1.5 / 28, 0.5 / 28])
    # then 14x14 x2, then 7x7 x6, ending in the last cell.
    assert np.allclose(a[1568], [0.5 / 14, 0.5 / 14])
    assert np.allclose(a[-1], [6.5 / 7, 6.5 / 7])


def test_one_person_found(pose, astronaut):
    assert pose.detections == 1
    assert pose.score > 0.5
    assert pose.landmarks.shape == (33, 2) and pose.landmarks.dtype == np.float32
    assert pose.visibility.shape == (33,) and ((pose.visibility >= 0) & (pose.visibility <= 1)).all()
    assert pose.mask.shape == astronaut.shape[:2] and pose.mask.dtype == np.float32
    assert pose.mask.min() >= 0 and pose.mask.max() <= 1


def test_landmarks_in_plausible_places(pose):
    p = pose.landmarks
    # The astronaut's face is roughly x 150-290, y 40-230 in the 512x512 photo.
    nose = p[Landmark.NOSE]
    assert 150 < nose[0] < 290 and 60 < nose[1] < 230
    for side in ("left", "right"):
        assert p[Landmark[f"{side.upper()}_EYE"]][1] < nose[1] < p[Landmark[f"{side.upper()}_SHOULDER"]][1]
        assert pose.visibility[Landmark[f"{side.upper()}_SHOULDER"]] > 0.8
    # Facing the camera: the person's left is on the image's right.
    assert p[Landmark.LEFT_SHOULDER][0] > nose[0] > p[Landmark.RIGHT_SHOULDER][0]
    assert p[Landmark.LEFT_EYE][0] > p[Landmark.RIGHT_EYE][0]
    assert p[Landmark.LEFT_HIP][0] > p[Landmark.RIGHT_HIP][0]
    # Shoulders are wider apart than the eyes, hips below the shoulders.
    assert abs(p[Landmark.LEFT_SHOULDER][0] - p[Landmark.RIGHT_SHOULDER][0]) > 2 * abs(
        p[Landmark.LEFT_EYE][0] - p[Landmark.RIGHT_EYE][0]
    )
    assert p[Landmark.LEFT_HIP][1] > p[Landmark.LEFT_SHOULDER][1] + 100


def test_mask_covers_the_person(pose):
    mask = pose.mask > 0.5
    p = pose.landmarks
    corners = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP]
    torso_centre = p[corners].mean(axis=0)
    x, y = np.round(torso_centre).astype(int)
    assert mask[y - 10 : y + 10, x - 10 : x + 10].all()
    nose = np.round(p[Landmark.NOSE]).astype(int)
    assert mask[nose[1], nose[0]]
    # The top corners are wall and flag, not the person.
    assert not mask[:40, :40].any() and not mask[:40, -40:].any()
    assert 0.2 < mask.mean() < 0.8


def test_blank_and_noise_have_nobody():
    for image in (
        np.full((480, 640, 3), 255, np.uint8),
        np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8),
    ):
        assert detect_people(image) == []
        with pytest.raises(PipelineError) as err:
            detect_pose(image)
        assert err.value.code == "NO_PERSON"


def test_two_people_are_both_detected(astronaut):
    gap = np.full((512, 100, 3), 200, np.uint8)
    people = detect_people(np.hstack([astronaut, gap, astronaut]))
    assert len(people) == 2
    centres = sorted(p.keypoints[0][0] for p in people)
    assert centres[0] < 512 < 612 < centres[1]


def test_single_pass_close_to_refined(astronaut, pose):
    """The second landmark pass only adjusts: it stays near the first on a clear photo."""
    single = detect_pose(astronaut, refine=False)
    key = [Landmark.NOSE, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]
    assert np.abs(single.landmarks[key] - pose.landmarks[key]).max() < 25


def test_shoulder_span_measures_shoulders_against_the_silhouette_below_them():
    from imaging.tryon.classical.pose import _shoulder_span

    raw = np.zeros((39, 5))
    raw[Landmark.LEFT_SHOULDER, :2] = (200, 100)
    raw[Landmark.RIGHT_SHOULDER, :2] = (100, 100)
    mask = np.zeros((300, 300), np.float32)
    mask[110:, 70:231] = 1.0  # 160 px wide where it is measured (15 px below the shoulders)
    assert _shoulder_span(raw, mask) == pytest.approx(100 / 160)
    assert _shoulder_span(raw, np.zeros_like(mask)) == 0.0


def test_collapsed_shoulders_are_found_again_on_the_silhouette(astronaut, pose):
    """A skeleton squeezed onto the neck (as the landmark model made of a dress's straps on a photo cut
    through the face) is replaced by one read on a crop framing the silhouette."""
    from imaging.tryon.classical.pose import MIN_SHOULDER_SPAN, _retry_on_silhouette, _shoulder_span

    raw = np.zeros((39, 5))
    raw[:33, :2] = pose.landmarks
    centre = (pose.landmarks[Landmark.LEFT_SHOULDER] + pose.landmarks[Landmark.RIGHT_SHOULDER]) / 2
    raw[Landmark.LEFT_SHOULDER, :2] = centre + (15, 0)
    raw[Landmark.RIGHT_SHOULDER, :2] = centre - (15, 0)
    assert _shoulder_span(raw, pose.mask) < MIN_SHOULDER_SPAN
    roi, found, _, mask = _retry_on_silhouette(astronaut, pose.mask, (pose.roi, raw, 1.0, pose.mask))
    assert _shoulder_span(found, mask) >= MIN_SHOULDER_SPAN
    width = np.linalg.norm(pose.landmarks[Landmark.LEFT_SHOULDER] - pose.landmarks[Landmark.RIGHT_SHOULDER])
    for side in (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER):
        assert np.linalg.norm(found[side, :2] - pose.landmarks[side]) < 0.3 * width  # the collapsed ones were 0.4 off
