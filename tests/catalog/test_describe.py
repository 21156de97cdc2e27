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


def _blouse() -> np.ndarray:
    """A blouse laid flat: long sleeves hanging against the body and flaring to cuffs beside its hem."""
    return silhouette(
        [
            [(200, 100), (400, 100), (420, 680), (180, 680)],  # body, its hem above the cuffs
            [(200, 100), (150, 130), (60, 760), (200, 760), (200, 690), (215, 300)],  # left sleeve
            [(400, 100), (450, 130), (540, 760), (400, 760), (400, 690), (385, 300)],  # right sleeve
        ]
    )


def test_sleeves_hanging_to_the_hem_make_a_top_not_a_product():
    alpha = _blouse()
    m = measure(solid(alpha, (240, 150, 180)), alpha)
    assert m.long_sleeves and m.garment
    assert describe(m).startswith("A pink long-sleeved top")


def test_a_stool_on_its_legs_is_not_a_top():
    # Legs apart at the bottom too, but the seat on top is the widest part.
    alpha = silhouette(
        [[(100, 100), (500, 100), (500, 200), (100, 200)], [(150, 200), (450, 200), (450, 600), (150, 600)]]
    )
    alpha += silhouette(
        [[(150, 600), (200, 600), (200, 780), (150, 780)], [(400, 600), (450, 600), (450, 780), (400, 780)]]
    )
    m = measure(solid(alpha, (110, 70, 40)), alpha)
    assert not m.long_sleeves


def test_fine_stripes_following_the_folds_are_stripes():
    # Pink and white stripes 6 px apart, bent by gathers: no single profile across the blouse
    # shows them, but every patch of it does.
    alpha = _blouse()
    h, w = alpha.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = xx + 8 * np.sin(yy / 40.0) + 0.15 * yy
    light = np.sin(2 * np.pi * phase / 6.0) > 0
    rgb = np.where(light[..., None], np.array([250, 246, 248], np.uint8), np.array([232, 160, 190], np.uint8))
    rgb = cv2.GaussianBlur(rgb.astype(np.uint8), (0, 0), 0.7)
    m = measure(rgb, alpha)
    assert m.fine_stripes >= 0.4
    text = describe(m)
    assert "fine stripes" in text and "print" not in text and "long-sleeved top" in text


def test_buttons_and_a_knit_rib_are_not_a_print():
    # A plain yellow camisole in a ribbed knit (a faint regular shading) with three dark buttons:
    # the buttons are a small share of it, the ribs swing too little for a stripe.
    alpha = silhouette([[(120, 200), (480, 200), (500, 700), (100, 700)]])
    h, w = alpha.shape
    xx = np.mgrid[0:h, 0:w][1].astype(np.float32)
    rib = 12.0 * np.sin(2 * np.pi * xx / 6.0)
    rgb = np.clip(np.array([240, 200, 60], np.float32) + rib[..., None], 0, 255).astype(np.uint8)
    for y in (330, 450, 570):
        cv2.circle(rgb, (300, y), 18, (90, 55, 30), -1)
    m = measure(rgb, alpha)
    assert m.detail > 40  # the mean gradient alone called this a print
    text = describe(m)
    assert "print" not in text and "stripes" not in text


def test_an_animal_print_is_not_fine_stripes():
    # Contrasted stripes that taper and swell along their length (a zebra print) stay a print.
    rng = np.random.default_rng(7)
    alpha = silhouette([[(100, 100), (500, 100), (500, 700), (100, 700)]])
    h, w = alpha.shape
    rgb = np.full((h, w, 3), 235, np.uint8)
    for x in range(0, w, 14):
        pts = [(x + 12 * np.sin(y / 45.0 + x), y) for y in range(0, h + 20, 20)]
        for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
            cv2.line(rgb, (int(x0), y0), (int(x1), y1), (20, 20, 22), int(rng.integers(1, 11)))
    m = measure(rgb, alpha)
    assert m.fine_stripes < 0.4
    assert "fine stripes" not in describe(m)
