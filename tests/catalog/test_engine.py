import io
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from imaging.catalog.checks import MIN_DISTANCE, min_pairwise_distance
from imaging.catalog.engine import run_catalog
from imaging.catalog.scenes import SET_6, SET_12, SMALLEST_LONG_SIDE
from imaging.errors import PipelineError
from imaging.image_io import encode_image
from tests.catalog.drawings import bottle, mug


@pytest.fixture(scope="module")
def mug_12():
    rgb, _, _ = mug()
    stages = []
    result = run_catalog(rgb, 12, quality="standard", progress=lambda s, p: stages.append((s, p)))
    return result, stages


def small(img: np.ndarray) -> np.ndarray:
    return cv2.resize(img, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)


def test_twelve_images_named_and_sized(mug_12):
    result, _ = mug_12
    assert len(result.images) == 12
    assert result.names == [s.name for s in SET_12]
    assert len(set(result.names)) == 12
    for img, scene, placement in zip(result.images, SET_12, result.placements, strict=True):
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
        if scene.detail:
            # A close-up is the source at 1:1 or smaller: the small drawn mug gives a small close-up.
            assert max(img.shape[:2]) < 1024 and placement.scale <= 1.0
        else:
            # The drawn mug is small (400 px): each frame is as large as it allows up to 1024, never
            # enlarging it.
            assert SMALLEST_LONG_SIDE <= max(img.shape[:2]) <= 1024 and placement.scale <= 1.0
    ratios = {round(img.shape[1] / img.shape[0], 2) for img in result.images}
    assert {1.0, 0.8, 1.78} <= ratios


def test_main_image_white_background_and_fill(mug_12):
    result, _ = mug_12
    main = result.images[result.names.index("white_main")]
    h, w = main.shape[:2]
    # The whole border, and every pixel away from the product, is pure white.
    border = np.concatenate(
        [main[:8].reshape(-1, 3), main[-8:].reshape(-1, 3), main[:, :8].reshape(-1, 3), main[:, -8:].reshape(-1, 3)]
    )
    assert (border == 255).all()
    non_white = (main < 250).any(axis=2)
    ys, xs = np.nonzero(non_white)
    fill = max((xs.max() - xs.min() + 1) / w, (ys.max() - ys.min() + 1) / h)
    # The mug (400 px) is too small to fill 85 % even of the smallest frame without being enlarged:
    # drawn 1:1, it fills a little less (a larger product: see the scene tests).
    placement = result.placements[result.names.index("white_main")]
    assert max(h, w) == SMALLEST_LONG_SIDE and placement.scale == 1.0
    assert 0.75 <= fill <= 0.90
    # A soft contact shadow: grey-ish pixels just under the product, darker than white.
    bottom = ys.max()
    assert (main[bottom - 3 : bottom + 1, xs.min() : xs.max()] < 250).any()


def test_images_pairwise_distinct(mug_12):
    result, _ = mug_12
    distance, a, b = min_pairwise_distance(result.images, result.names)
    assert distance >= MIN_DISTANCE, f"{a} and {b} differ by only {distance:.1f}"


def test_progress_reported_per_image(mug_12):
    _, stages = mug_12
    renders = [p for s, p in stages if s == "render"]
    assert len(renders) == 12
    assert renders == sorted(renders) and renders[-1] >= 95
    assert stages[0][0] == "cutout"


def test_description_is_measured():
    red_mug = run_catalog(mug()[0], 6, quality="standard")
    navy_bottle = run_catalog(bottle()[0], 6, quality="standard")
    assert red_mug.description.startswith("A red product with a handle")  # the handle hole was measured
    assert "navy" in navy_bottle.description or "blue" in navy_bottle.description
    assert "tall" in navy_bottle.description and "bottle" in navy_bottle.description
    assert "white" in navy_bottle.description  # its label
    assert red_mug.description != navy_bottle.description
    for text in (red_mug.description, navy_bottle.description):
        # Sentences for shoppers: no measurement figures, no scene names.
        assert text.endswith(".") and text[0].isupper()
        assert not any(ch.isdigit() for ch in text) and "%" not in text and "_" not in text
    assert red_mug.cutout_method == "plain"


def test_high_quality_follows_the_source_resolution():
    """A large photo fills the 2048 px cap; a small one stops where the product would be enlarged."""
    large = cv2.resize(bottle()[0], (1800, 2400), interpolation=cv2.INTER_CUBIC)
    result = run_catalog(large, 6, quality="high")
    assert result.names == [s.name for s in SET_6]
    for img, scene, placement in zip(result.images, SET_6, result.placements, strict=True):
        assert placement.scale <= 1.0
        if not scene.detail:
            assert max(img.shape[:2]) == 2048
    distance, _, _ = min_pairwise_distance(result.images, result.names)
    assert distance >= MIN_DISTANCE

    medium = cv2.resize(bottle()[0], (900, 1200), interpolation=cv2.INTER_CUBIC)
    result = run_catalog(medium, 6, quality="high")
    for placement in result.placements:
        assert placement.scale <= 1.0  # no scene enlarges this product: the frames are smaller instead
    sides = [max(img.shape[:2]) for img in result.images]
    assert sum(side < 2048 for side in sides) >= 3, sides


@pytest.mark.parametrize("fmt,magic,mode", [("jpg", b"\xff\xd8", "RGB"), ("png", b"\x89PNG", "RGB")])
def test_encode_formats(mug_12, fmt, magic, mode):
    result, _ = mug_12
    data = encode_image(result.images[0], fmt)
    assert data.startswith(magic)
    decoded = Image.open(io.BytesIO(data))
    assert decoded.mode == mode and decoded.size == (result.images[0].shape[1], result.images[0].shape[0])


def test_empty_image_fails_with_no_product():
    with pytest.raises(PipelineError) as err:
        run_catalog(np.full((400, 300, 3), 240, np.uint8), 6)
    assert err.value.code == "NO_PRODUCT"


def test_bad_quantity_rejected():
    with pytest.raises(ValueError):
        run_catalog(mug()[0], 7)


def test_debug_output(tmp_path):
    run_catalog(mug()[0], 6, quality="standard", debug_dir=tmp_path)
    for name in ("cutout.png", "alpha.png", "overlay.jpg", "catalog.json"):
        assert (tmp_path / name).is_file()
    # The measured figures the description no longer shows stay in the debug output.
    measured = json.loads((tmp_path / "catalog.json").read_text())["measurements"]
    assert {"aspect", "fill", "symmetry", "holes", "palette", "kind"} <= set(measured)
    assert Image.open(tmp_path / "cutout.png").mode == "RGBA"


def test_every_reported_stage_has_a_label(mug_12):
    from imaging.stages import LABELS

    _, stages = mug_12
    assert {s for s, _ in stages} == {"cutout", "measure", "render"}
    assert {s for s, _ in stages} <= set(LABELS)
