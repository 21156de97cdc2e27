import cv2
import numpy as np
import pytest

from imaging.catalog.describe import describe, measure, name_colour
from tests.catalog.drawings import white_tee


def silhouette(polys: list[list[tuple[int, int]]], h: int = 800, w: int = 600) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    for p in polys:
        cv2.fillPoly(mask, [np.array(p, np.int32)], 1)
    return mask.astype(np.float32)


def solid(alpha: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    rgb = np.empty((*alpha.shape, 3), np.uint8)
    rgb[:] = colour
    return rgb


@pytest.mark.parametrize(
    "rgb,name",
    [
        ((128, 128, 130), "grey"),
        ((150, 145, 138), "grey"),  # a warm grey is a grey, not beige
        ((25, 35, 80), "navy"),
        ((200, 30, 40), "red"),
        ((250, 250, 250), "white"),
        ((20, 20, 20), "black"),
        ((40, 150, 60), "green"),
    ],
)
def test_colour_names(rgb, name):
    assert name_colour(rgb) == name


def test_long_sleeves_from_the_width_profile():
    # Body and two sleeves hanging beside it, background between: rows of the middle cross three runs.
    alpha = silhouette(
        [
            [(180, 100), (420, 100), (430, 760), (170, 760)],  # body
            [(180, 100), (110, 130), (60, 640), (130, 650), (160, 250)],  # left sleeve
            [(420, 100), (490, 130), (540, 640), (470, 650), (440, 250)],  # right sleeve
        ]
    )
    m = measure(solid(alpha, (30, 40, 90)), alpha)
    assert m.long_sleeves and m.garment
    assert "long sleeves" in m.category
    assert describe(m).startswith("A navy long-sleeved top")


def test_flared_trousers():
    alpha = silhouette(
        [
            [(200, 50), (400, 50), (400, 250), (200, 250)],  # waist and hips
            [(200, 250), (295, 250), (280, 780), (150, 780)],  # left leg, flaring
            [(305, 250), (400, 250), (450, 780), (320, 780)],  # right leg
        ]
    )
    m = measure(solid(alpha, (40, 60, 120)), alpha)
    assert m.two_legs and "two legs" in m.category and "flaring" in m.category
    assert describe(m) == "Navy flared trousers."


def test_stripes_measured_not_assumed():
    rgb, mask = white_tee(stripes=True)
    m = measure(rgb, mask.astype(np.float32))
    assert m.stripes == "horizontal"
    text = describe(m)
    assert "with horizontal stripes" in text and "short-sleeved top" in text
    plain_rgb, plain_mask = white_tee()
    assert measure(plain_rgb, plain_mask.astype(np.float32)).stripes == ""


def test_busy_print_is_multicoloured_not_grey():
    rng = np.random.default_rng(4)
    alpha = silhouette([[(100, 100), (500, 100), (500, 700), (100, 700)]])
    rgb = np.full((*alpha.shape, 3), 235, np.uint8)
    colours = [(200, 30, 40), (40, 150, 60), (40, 90, 200), (245, 220, 50), (110, 50, 150), (20, 20, 22)]
    for _ in range(400):  # blobs of six colours: their average would be a grey
        c = colours[rng.integers(len(colours))]
        cv2.circle(rgb, (int(rng.integers(100, 500)), int(rng.integers(100, 700))), int(rng.integers(8, 30)), c, -1)
    m = measure(rgb, alpha)
    text = describe(m)
    assert m.entropy >= 2.0
    assert "multicoloured print" in text
    first = text.split(".")[0]
    assert "grey" not in first and "red" in first
