"""End to end on skimage's astronaut with a garment drawn in the test."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from imaging.errors import PipelineError
from imaging.tryon.classical.engine import run_tryon

GREEN = (30, 160, 60)
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


def tshirt(colour=GREEN) -> np.ndarray:
    img = np.full((600, 600, 3), 255, np.uint8)
    cv2.fillPoly(img, [np.array(TSHIRT, np.int32)], colour)
    return img


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()


@pytest.fixture(scope="module")
def result(astronaut, tmp_path_factory):
    debug = tmp_path_factory.mktemp("debug")
    stages = []
    res = run_tryon(astronaut, tshirt(), quality="high", progress=lambda s, p: stages.append((s, p)), debug_dir=debug)
    return res, stages, debug


def test_output_size_and_untouched_pixels(astronaut, result):
    res, _, _ = result
    assert res.image.shape == astronaut.shape and res.image.dtype == np.uint8
    assert res.category == "tops"
    assert res.edited_mask.shape == astronaut.shape[:2]
    assert 0.03 < res.edited_mask.mean() < 0.6
    outside = ~res.edited_mask
    assert np.array_equal(res.image[outside], astronaut[outside])


def test_garment_colour_dominates_the_torso(astronaut, result):
    from imaging.tryon.classical.person import analyze_person

    res, _, _ = result
    kp = analyze_person(astronaut).keypoints
    sw = np.linalg.norm(kp["l_shoulder"] - kp["r_shoulder"])
    x0, x1 = sorted([kp["r_shoulder"][0], kp["l_shoulder"][0]])
    y0 = max(kp["l_shoulder"][1], kp["r_shoulder"][1]) + 0.25 * sw
    y1 = min(y0 + 0.6 * sw, astronaut.shape[0])
    box = res.image[int(y0) : int(y1), int(x0 + 0.15 * sw) : int(x1 - 0.15 * sw)].astype(int)
    # Green fabric, shaded: green clearly above red and blue.
    greenish = (box[..., 1] > box[..., 0] + 40) & (box[..., 1] > box[..., 2] + 40)
    assert greenish.mean() > 0.5
    before = astronaut[int(y0) : int(y1), int(x0 + 0.15 * sw) : int(x1 - 0.15 * sw)].astype(int)
    assert ((before[..., 1] > before[..., 0] + 40) & (before[..., 1] > before[..., 2] + 40)).mean() < 0.05


def test_progress_and_timings_and_debug(result):
    res, stages, debug = result
    percents = [p for _, p in stages]
    assert percents == sorted(percents) and percents[-1] == 95
    assert {"person", "garment", "warp", "compose"} <= {s for s, _ in stages}
    assert {"person", "garment", "warp", "compose", "total"} <= set(res.timings)
    names = {p.name for p in debug.iterdir()}
    assert {"1_person.png", "2_garment.png", "3_warp.png", "4_compose_mask.png", "5_result.png"} <= names
    assert "6_self_check.png" in names
    assert Image.open(debug / "3_warp.png").size == (512, 512)


def test_the_self_check_is_recorded_and_its_threshold_fails_the_order(astronaut, result):
    res, _, _ = result
    # A plain tee on a frontal person: the garment covers the chest, little is made up.
    assert res.info["self_check_coverage"] > 0.8
    assert res.info["self_check_score"] > 0.6
    assert 0 <= res.info["self_check_skin"] <= res.info["self_check_invented"] < 0.3
    with pytest.raises(PipelineError) as exc:
        run_tryon(astronaut, tshirt(), min_score=float(res.info["self_check_score"]) + 0.01)
    assert exc.value.code == "TRYON_SELF_CHECK_FAILED"


def test_standard_quality_caps_the_long_side(astronaut):
    big = cv2.resize(astronaut, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    res = run_tryon(big, tshirt((40, 60, 200)), quality="standard")
    assert res.image.shape == (1024, 1024, 3)


def test_failure_codes(astronaut):
    with pytest.raises(PipelineError) as exc:
        run_tryon(astronaut, np.full((300, 300, 3), 255, np.uint8))
    assert exc.value.code == "NO_GARMENT"
    with pytest.raises(PipelineError) as exc:
        run_tryon(np.full((512, 512, 3), 200, np.uint8), tshirt())
    assert exc.value.code == "NO_PERSON"
    with pytest.raises(PipelineError) as exc:
        run_tryon(astronaut, tshirt(), quality="ultra")
    assert exc.value.code == "BAD_QUALITY"


def test_every_reported_stage_has_a_label_and_is_announced(result):
    from imaging.stages import LABELS
    from imaging.tryon.engines import get_engine

    _, stages, _ = result
    reported = [s for s, _ in stages]
    assert set(reported) <= set(LABELS)
    announced = [name for name, _ in get_engine("classical").stages]
    assert list(dict.fromkeys(reported)) == announced
    assert all(label == LABELS[name] for name, label in get_engine("classical").stages)
