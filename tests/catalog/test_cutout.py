import cv2
import numpy as np
import pytest

from imaging.cutout import cut_out
from imaging.cutout.cut import centre_lift
from imaging.cutout.plain import VIGNETTE_LIFT, uncertainty
from imaging.errors import PipelineError
from tests.catalog.drawings import bottle, busy, mug, white_on_white_tee, white_tee


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("method", ["auto", "plain"])
def test_mug_on_plain_background(method):
    rgb, mask, hole = mug()
    cut = cut_out(rgb, method=method)
    assert cut.method == "plain"
    got = cut.alpha > 0.5
    assert iou(got, mask) > 0.95
    # The space inside the handle shows the background: it must stay open.
    assert (~got[hole]).mean() > 0.9
    assert cut.alpha.dtype == np.float32 and cut.alpha.shape == mask.shape
    assert cut.rgb.shape == rgb.shape and cut.rgb.dtype == np.uint8
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = cut.bbox
    assert abs(x0 - xs.min()) <= 3 and abs(y0 - ys.min()) <= 3
    assert abs(x1 - xs.max() - 1) <= 3 and abs(y1 - ys.max() - 1) <= 3


def test_soft_shadow_of_the_photo_is_removed():
    rgb, mask, hole = mug(shadow=True)
    cut = cut_out(rgb)
    got = cut.alpha > 0.5
    assert iou(got, mask) > 0.95
    below = np.zeros_like(mask)
    y_bottom = np.nonzero(mask.any(axis=1))[0].max()
    below[y_bottom + 3 :] = True
    # Nothing of the shadow under the mug is kept.
    assert got[below].sum() == 0


def test_light_label_on_bottle_is_kept():
    rgb, mask = bottle()
    cut = cut_out(rgb)
    assert iou(cut.alpha > 0.5, mask) > 0.95


def test_busy_background_uses_u2net():
    rgb, mask = busy()
    cut = cut_out(rgb)
    assert cut.method == "u2net"
    assert iou(cut.alpha > 0.5, mask) > 0.9


def test_edge_colours_are_decontaminated():
    # A dark product on white: edge pixels blend with white in the photo; the
    # cutout's edge colour must be close to the product's, not greyish.
    rgb, mask, _ = mug(background=(255, 255, 255))
    cut = cut_out(rgb)
    edge = (cut.alpha > 0.2) & (cut.alpha < 0.8)
    assert edge.sum() > 100
    assert cut.rgb[edge][:, 1].mean() < rgb[edge][:, 1].mean() - 20


@pytest.mark.parametrize("value", [0, 128, 255])
def test_uniform_image_has_no_product(value):
    with pytest.raises(PipelineError) as err:
        cut_out(np.full((300, 400, 3), value, np.uint8))
    assert err.value.code == "NO_PRODUCT"


def test_noise_only_image_has_no_product():
    rng = np.random.default_rng(0)
    img = np.clip(200 + rng.normal(0, 1.0, (300, 400, 3)), 0, 255).astype(np.uint8)
    with pytest.raises(PipelineError) as err:
        cut_out(img)
    assert err.value.code == "NO_PRODUCT"


def test_white_garment_on_near_white_backdrop():
    # Fabric 1-4 levels off a flat backdrop: the Lab threshold alone kept only the print.
    rgb, mask = white_tee()
    cut = cut_out(rgb)
    assert cut.method == "plain"
    assert cut.info["tight_model"] is True
    assert iou(cut.alpha > 0.5, mask) > 0.95


def test_light_stripes_at_backdrop_level_are_kept():
    rgb, mask = white_tee(stripes=True)
    cut = cut_out(rgb)
    got = cut.alpha > 0.5
    # Across the body, below the neckline, every light stripe between two dark ones belongs to the
    # garment (at the sleeves' slanted ends a light stripe is bounded by one dark stripe only: ambiguous).
    rows = np.nonzero((rgb[..., 2] < 120).any(axis=1))[0]
    band = np.zeros_like(mask)
    band[rows.min() + 40 : rows.max() - 20, 220:480] = True
    assert iou(got & band, mask & band) > 0.98
    assert iou(got, mask) > 0.9
    # The neck opening stays background.
    assert not got[100:130, 340:360].any()


def test_plain_photo_does_not_need_the_network():
    rgb, _, _ = mug()
    cut = cut_out(rgb)
    assert cut.info["u2net_reasons"] == []
    assert "u2net_missed" not in cut.info


def test_no_light_rim_outside_a_light_garment():
    # Composited on black, the pixels 2-4 px outside the true outline must stay dark: backdrop
    # pixels carried with alpha make a light rim around a white garment on a dark scene.
    rgb, mask = white_tee(stripes=True)
    cut = cut_out(rgb)
    m8 = mask.astype(np.uint8)
    outside_2px = cv2.dilate(m8, np.ones((3, 3), np.uint8)).astype(bool)
    ring = cv2.dilate(m8, np.ones((9, 9), np.uint8)).astype(bool) & ~outside_2px
    on_black = cut.rgb.astype(np.float32).mean(axis=-1) * cut.alpha
    assert np.percentile(on_black[ring], 95) < 10


def test_gap_between_strap_halves_stays_open():
    # A thin yellow loop (a strap seen front and back) around a narrow slit of backdrop.
    h, w = 600, 500
    rgb = np.full((h, w, 3), 246, np.uint8)
    mask = np.zeros((h, w), np.uint8)
    cv2.rectangle(mask, (100, 400), (400, 560), 1, -1)  # the garment's body
    loop = np.array([[230, 80], [270, 80], [300, 400], [200, 400]], np.int32)
    cv2.fillPoly(mask, [loop], 1)
    slit = np.array([[248, 130], [252, 130], [262, 400], [238, 400]], np.int32)
    cv2.fillPoly(mask, [slit], 0)
    rgb[mask.astype(bool)] = (245, 215, 60)
    ok, jpg = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    rgb = cv2.imdecode(jpg, cv2.IMREAD_COLOR)[..., ::-1].copy()
    cut = cut_out(rgb)
    slit_mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(slit_mask, [slit], 1)
    inner = cv2.erode(slit_mask, np.ones((3, 3), np.uint8)).astype(bool)
    assert (cut.alpha[inner] < 0.5).mean() > 0.9


def test_shaded_white_fabric_is_not_taken_for_the_photos_shadow():
    # The hem of a white tee in shade is darker than the backdrop, low in the frame and soft-edged,
    # like a shadow; but it keeps the fabric's tint and weave, and must stay product.
    rgb, mask = white_tee(shaded_hem=True)
    cut = cut_out(rgb)
    got = cut.alpha > 0.5
    hem = mask.copy()
    hem[:560] = False
    assert got[hem].mean() > 0.95
    assert iou(got, mask) > 0.95


def test_faint_drop_shadow_beside_the_product_is_removed():
    """A garment on a backdrop clipped at white, its faint soft drop shadow beside it along its whole
    height (lit from above-front), JPEG-compressed: the shadow goes, wherever it lies, the garment stays."""
    h, w = 700, 600
    mask = np.zeros((h, w), np.uint8)
    cv2.rectangle(mask, (150, 80), (390, 620), 1, -1)  # a trouser leg, a sleeve: tall, upright
    mask = mask.astype(bool)
    offset = np.zeros((h, w), np.float32)
    offset[90:630, 170:410] = 1.0  # down and to the right of it
    shade = cv2.GaussianBlur(offset, (0, 0), 7.0) * 14.0  # up to 14 levels darker, very soft
    img = np.full((h, w, 3), 255.0, np.float32) - shade[..., None]
    rng = np.random.default_rng(5)
    fabric = np.array((40, 150, 120), np.float32) + rng.normal(0, 3.0, (h, w, 1)).astype(np.float32)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.8)[..., None]
    img = img * (1 - soft) + fabric * soft
    ok, buf = cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
    rgb = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    cut = cut_out(rgb)
    got = cut.alpha > 0.5
    assert iou(got, mask) > 0.95
    beside = np.zeros_like(mask)
    beside[90:630, 394:430] = True  # the shadow's strip right of the garment
    assert float(cut.alpha[beside].mean()) < 0.05


def test_vignetted_backdrop_asks_the_network():
    """A backdrop lit brighter in the middle than at its border: the colour model, fitted at the border,
    cannot tell a white garment from it there, so the network is asked; a flat one is not."""
    h, w = 400, 300
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2
    lit = np.clip(236 - 60 * r2, 0, 255)  # about 214 in the corners, 236 in the middle
    lab = cv2.cvtColor(np.repeat(lit[..., None], 3, axis=2).astype(np.uint8), cv2.COLOR_RGB2Lab).astype(np.float32)
    lightness = lab[..., 0] * 100 / 255
    assert centre_lift(lightness) > VIGNETTE_LIFT
    assert abs(centre_lift(np.full((h, w), 90.0, np.float32))) < 0.01
    core = np.zeros((h, w), bool)
    core[100:300, 80:220] = True
    assert "vignette" in uncertainty(core, {"bg_centre_lift": 5.0, "tight_model": False})
    assert "vignette" not in uncertainty(core, {"bg_centre_lift": 1.0, "tight_model": False})


def _network_seeing(mask: np.ndarray):
    """A stand-in for the segmentation network that sees ``mask`` (with a soft, few-pixel edge)."""

    def soft_matte(rgb: np.ndarray) -> tuple[np.ndarray, float]:
        return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 2.0), 1.0

    return soft_matte


def test_white_on_white_outline_is_placed_by_the_network(monkeypatch):
    """A white garment retouched to the backdrop's very level near its outline: the colour model sees
    only noise there (bites out of the sides, a ragged fringe). The network places that outline."""
    rgb, mask = white_on_white_tee()
    monkeypatch.setattr("imaging.cutout.cut.soft_matte", _network_seeing(mask))
    cut = cut_out(rgb)
    assert "light_outline" in cut.info["u2net_reasons"]
    got = cut.alpha > 0.5
    assert iou(got, mask) > 0.97
    # No bites: the outer band of the garment is kept all round.
    m8 = mask.astype(np.uint8)
    band = mask & ~cv2.erode(m8, np.ones((31, 31), np.uint8)).astype(bool)
    assert got[band].mean() > 0.97
    # No fringe: nothing a few pixels outside the outline (the hem's shadow included).
    outside = ~cv2.dilate(m8, np.ones((9, 9), np.uint8)).astype(bool)
    assert got[outside].sum() < 0.002 * mask.sum()


def test_white_on_white_keeps_the_colour_outline_when_the_network_sees_only_the_print(monkeypatch):
    rgb, mask = white_on_white_tee()
    plain = cut_out(rgb, method="plain")
    print_only = np.zeros_like(mask)
    print_only[330:431, 300:401] = True
    monkeypatch.setattr("imaging.cutout.cut.soft_matte", _network_seeing(print_only))
    cut = cut_out(rgb)
    assert "light_outline" in cut.info["u2net_reasons"]
    assert iou(cut.alpha > 0.5, plain.alpha > 0.5) > 0.99


def test_white_on_white_network_gets_a_second_look_at_stretched_contrast(monkeypatch):
    """At the photo's contrast the network sees only the print of a white garment on white; with the
    few levels between garment and backdrop stretched it sees the garment, and that outline is used."""
    rgb, mask = white_on_white_tee()
    print_only = np.zeros_like(mask)
    print_only[330:431, 300:401] = True
    seeing_print, seeing_garment = _network_seeing(print_only), _network_seeing(mask)
    looks = []

    def soft_matte(image: np.ndarray) -> tuple[np.ndarray, float]:
        # The stretched image puts the backdrop at mid-grey.
        stretched = float(image[:10, :10].mean()) < 200
        looks.append(stretched)
        return seeing_garment(image) if stretched else seeing_print(image)

    monkeypatch.setattr("imaging.cutout.cut.soft_matte", soft_matte)
    cut = cut_out(rgb)
    assert looks == [False, True]
    assert iou(cut.alpha > 0.5, mask) > 0.97
