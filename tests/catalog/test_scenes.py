import dataclasses

import cv2
import numpy as np
import pytest

from imaging.catalog import surfaces
from imaging.catalog.checks import (
    MAX_HALO,
    MIN_REFLECTION,
    crisp_coverage,
    halo,
    reflection_correlation,
    rim,
    sharpness_ratio,
)
from imaging.catalog.describe import palette
from imaging.catalog.scenes import (
    SET_12,
    SMALLEST_LONG_SIDE,
    Placement,
    Sprite,
    _crisp,
    prepare_product,
    reestimate_edge,
    render,
    scene_colours,
)
from tests.catalog.drawings import bottle, white_tee


def scene(name: str):
    return next(s for s in SET_12 if s.name == name)


def drawn(make, flat: bool, **kw):
    rgb, mask = make(**kw)
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.8)
    ys, xs = np.nonzero(mask)
    bbox = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return prepare_product(rgb, alpha, bbox, palette(rgb, alpha), flat=flat)


@pytest.fixture(scope="module")
def standing():
    return drawn(bottle, False)


@pytest.fixture(scope="module")
def tee():
    return drawn(white_tee, True, stripes=True)


def lightness(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)


def test_floor_is_in_perspective_and_meets_the_wall():
    w, h, horizon = 1024, 1024, 600
    wood = surfaces.floor("wood", w, h, horizon, 3.5)
    assert wood.shape == (h - horizon, w)

    def seams(row: np.ndarray) -> int:  # dark plank seams across one row
        smooth = cv2.GaussianBlur(row[None, :], (0, 0), 0.7)[0]
        return int(((smooth < np.median(smooth) - 0.15) & (np.diff(smooth, prepend=smooth[0]) < 0)).sum())

    # Planks converge towards the vanishing point: more seams across a far row than across a near one.
    assert seams(wood[5]) > 1.5 * seams(wood[-5]) > 0


@pytest.mark.parametrize("kind", ["plaster", "concrete", "linen"])
def test_walls_have_texture_and_are_cached(kind):
    a = surfaces.wall(kind, 512, 300, 512)
    assert a.shape == (300, 512) and a.dtype == np.float32
    assert 0.005 < float(a.std()) < 0.15  # visible texture, not noise that swamps the colour
    assert surfaces.wall(kind, 512, 300, 512) is a  # one pattern per size and process
    assert not a.flags.writeable


def test_marble_has_veins_and_black_marble_light_ones():
    white = surfaces.floor("marble", 800, 800, 400, 3.5)
    black = surfaces.floor("black_marble", 800, 800, 400, 3.5)
    assert float(np.percentile(white, 1)) < 0.9  # dark veins on white stone
    assert float(np.percentile(black, 99)) > 1.1  # light veins on black stone


def test_reflective_floor_mirrors_the_product(standing):
    s = scene("reflective_floor")
    img, placed = render(s, standing, 1024)
    empty, _ = render(s, standing, 1024, draw_product=False)
    assert placed.mirror_y is not None
    assert reflection_correlation(img, empty, placed) >= MIN_REFLECTION
    # The same set with a matte floor: nothing of the product below the line, whatever is measured.
    matte = dataclasses.replace(s, reflection=0.0)
    img0, placed0 = render(matte, standing, 1024)
    empty0, _ = render(matte, standing, 1024, draw_product=False)
    probe = dataclasses.replace(placed0, mirror_y=placed.mirror_y)
    assert abs(reflection_correlation(img0, empty0, probe) or 0.0) < 0.1


def test_reflection_fades_with_distance():
    # A plain light box: what its reflection adds depends on the distance only, not on the print.
    h, w = 600, 500
    mask = np.zeros((h, w), bool)
    mask[100:520, 130:370] = True
    rgb = np.full((h, w, 3), 236, np.uint8)
    rgb[mask] = (200, 190, 120)
    box = drawn(lambda: (rgb, mask), False)
    s = scene("dark_gloss")
    img, placed = render(s, box, 1024)
    empty, _ = render(s, box, 1024, draw_product=False)
    added = np.abs(lightness(img) - lightness(empty))
    h, w = img.shape[:2]
    cols = np.nonzero((placed.frame_alpha(h, w) > 0.5).any(axis=0))[0]
    m = placed.mirror_y
    near = added[m + 2 : m + 30, cols].mean()
    far = added[m + 150 : m + 180, cols].mean()
    assert near > 4 and far < 0.5 * near


def test_gloss_scene_has_the_lights_highlight(standing):
    s = scene("dark_gloss")
    empty, placed = render(s, standing, 1024, draw_product=False)
    h, w = empty.shape[:2]
    floor = lightness(empty)[placed.mirror_y + 20 :]
    # Light from the left: its highlight on the polished floor is on the left.
    # A narrow streak (a softbox at a grazing angle), not a broad spotlight pool.
    cols = floor.mean(axis=0)
    peak = int(np.argmax(cols))
    assert peak < w // 3 and cols[peak] > cols[-w // 3 :].mean() + 8
    matte = lightness(render(dataclasses.replace(s, gloss=0.0), standing, 1024, draw_product=False)[0])
    assert cols[peak] > matte[placed.mirror_y + 20 :, peak].mean() + 8


def test_hung_garment_reflects_about_the_wall_foot(tee):
    s = scene("reflective_floor")
    img, placed = render(s, tee, 1024)
    empty, _ = render(s, tee, 1024, draw_product=False)
    h, w = img.shape[:2]
    bottom = placed.y + int(np.nonzero((placed.alpha > 127).any(axis=1))[0][-1])
    assert bottom < placed.mirror_y  # hung on the wall, above the floor
    assert reflection_correlation(img, empty, placed) >= MIN_REFLECTION


def test_no_halo_of_the_old_backdrop_on_the_darkest_scene(tee):
    """A white-backdrop Breton top on the darkest set: no light rim outside its outline."""
    for name in ("dark_gloss", "studio_dark"):
        s = scene(name)
        img, placed = render(s, tee, 1024)
        empty, _ = render(s, tee, 1024, draw_product=False)
        assert halo(img, empty, placed) < MAX_HALO
        assert abs(rim(img, empty, placed)) < 1.5


def _disc(n: int, radius: int, blur: float = 0.0) -> np.ndarray:
    """A disc's coverage, anti-aliased exactly (8 x 8 supersampled), optionally blurred: a soft edge."""
    f = 8
    big = np.zeros((n * f, n * f), np.float32)
    cv2.circle(big, (n * f // 2, n * f // 2), radius * f, 1.0, -1, lineType=cv2.LINE_AA)
    a = cv2.resize(big, (n, n), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(a, (0, 0), blur) if blur else a


def _on_dark(a: np.ndarray, product: float = 235.0, rim_level: float | None = None, backdrop: float = 30.0):
    colour = np.full(a.shape, product, np.float32)
    if rim_level is not None:  # the outer half of the edge carries the old backdrop's light
        colour[(a > 0) & (a < 0.6)] = rim_level
    img = np.repeat((a * colour + (1 - a) * backdrop + 0.5).astype(np.uint8)[..., None], 3, axis=2)
    placed = Placement(x=0, y=0, alpha=(a * 255 + 0.5).astype(np.uint8), scale=1.0)
    return img, np.full_like(img, int(backdrop)), placed


def test_halo_measures_tell_a_clean_edge_from_a_glow_and_a_rim():
    """A light disc on black: exactly anti-aliased it passes both; soft (a glow) or carrying a light
    rim it fails the rim measure, and the glow fails the raw step too."""
    sharp = _disc(300, 110)
    img, empty, placed = _on_dark(sharp)
    assert halo(img, empty, placed) < MAX_HALO and abs(rim(img, empty, placed)) < 1.5
    img, empty, placed = _on_dark(_disc(300, 110, blur=1.5))
    assert halo(img, empty, placed) > MAX_HALO and rim(img, empty, placed) > MAX_HALO
    img, empty, placed = _on_dark(sharp, product=90.0, rim_level=255.0)
    assert rim(img, empty, placed) > 2.5 * abs(rim(*_on_dark(sharp, product=90.0)))
    # The crisp coverage of an exact edge is that edge.
    assert float(np.abs(crisp_coverage(sharp) - sharp).max()) < 0.2


def test_soft_edge_is_drawn_crisp_and_sheer_parts_keep_their_matte():
    """A light product whose photo edge is 2 px soft, on the darkest set: no skirt of low coverage
    outside its outline (the glow a soft edge gives on dark), the outline in the same place; a sheer
    panel of even half coverage, away from any solid edge, is left as it is."""
    a = _disc(240, 80, blur=2.0)
    a[4:30, 195:236] = np.maximum(a[4:30, 195:236], 0.5)  # a sheer panel, far from the disc
    rgb = np.repeat(a[..., None], 3, axis=2) * 230
    sprite = Sprite(rgb=rgb.copy(), alpha=a.copy())
    _crisp(sprite)
    crisp = sprite.alpha
    ring = (cv2.dilate((crisp >= 0.5).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0) & (crisp < 0.5)
    far = ring & (cv2.dilate((crisp >= 0.5).astype(np.uint8), np.ones((3, 3), np.uint8)) == 0)
    assert float(crisp[far].max()) < 0.01  # nothing visible beyond the first pixel outside
    assert abs(float((crisp >= 0.5).sum()) - float((a >= 0.5).sum())) < 40  # the outline stays in place
    np.testing.assert_allclose(crisp[4:30, 195:236], 0.5)
    # Colour kept: premultiplied colour over coverage is the product's.
    edge = (crisp > 0.05) & (crisp < 0.95)
    np.testing.assert_allclose(sprite.rgb[edge][:, 0] / crisp[edge], 230, atol=1.0)


def test_white_main_never_enlarges_a_small_product(standing):
    """The main image's 85 % fill from a product too small for a 1024 px frame: a smaller frame."""
    small = dataclasses.replace(
        standing,
        premult=cv2.resize(standing.premult, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA),
        alpha=cv2.resize(standing.alpha, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA),
    )
    assert max(small.size) < 0.85 * 1024
    for name in ("white_main", "studio_dark"):
        img, placed = render(scene(name), small, 2048)
        assert placed.scale <= 1.0
        assert SMALLEST_LONG_SIDE <= max(img.shape[:2]) < 1024
        assert sharpness_ratio(img, placed, small) >= 0.95
    img, placed = render(scene("white_main"), small, 2048)
    ys, xs = np.nonzero(placed.alpha > 127)
    fill = max((ys.max() - ys.min() + 1) / img.shape[0], (xs.max() - xs.min() + 1) / img.shape[1])
    assert 0.8 <= fill <= 0.9
    # Smaller still: the frame stops at its smallest and the product is drawn 1:1, filling less.
    tiny = dataclasses.replace(
        standing,
        premult=cv2.resize(standing.premult, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA),
        alpha=cv2.resize(standing.alpha, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA),
    )
    img, placed = render(scene("white_main"), tiny, 2048)
    assert max(img.shape[:2]) == SMALLEST_LONG_SIDE and placed.scale == 1.0


def test_edge_colour_reestimated_and_like_matte_tightened():
    """A navy square photographed on white, its 3 px outline half backdrop: the edge loses the white."""
    h = w = 120
    alpha = np.zeros((h, w), np.float32)
    alpha[30:90, 30:90] = 1.0
    ring = (cv2.dilate(alpha, np.ones((7, 7), np.uint8)) > 0) & (alpha == 0)
    alpha[ring] = 0.35
    rgb = np.full((h, w, 3), 250, np.uint8)
    rgb[alpha == 1] = (25, 35, 80)
    rgb[ring] = (200, 200, 220)  # the old backdrop's white still in the edge colour
    premult, new_alpha = reestimate_edge(rgb, alpha)
    colour = premult[ring] / new_alpha[ring][:, None]
    assert float(colour.mean(axis=0)[0]) < 120  # pulled towards navy, away from the contaminated 200
    # Where product and backdrop were alike (a white shirt on white) the soft edge is tightened.
    white = np.full((h, w, 3), 246, np.uint8)
    white[alpha == 1] = 248
    white[ring] = 247
    _, tight = reestimate_edge(white, alpha)
    assert float(tight[ring].mean()) < 0.2 and float(tight[alpha == 1].mean()) == 1.0


def test_surface_colours_move_away_from_the_product():
    dark_rgb = np.zeros((40, 40, 3), np.uint8) + 20
    light_rgb = np.zeros((40, 40, 3), np.uint8) + 240
    alpha = np.ones((40, 40), np.float32)
    for rgb in (dark_rgb, light_rgb):
        p = palette(rgb, alpha)
        product_l = p[0].lab[0]
        for key in ("light", "dark", "cool", "warm", "black", "walnut"):
            wall, _ = scene_colours(key, p, product_l)
            wall_l = cv2.cvtColor((wall / 255).reshape(1, 1, 3).astype(np.float32), cv2.COLOR_RGB2Lab)[0, 0, 0]
            assert abs(float(wall_l) - product_l) >= 15.9, key


def test_close_ups_are_never_enlarged(standing):
    for name in ("detail_closeup", "detail_edge_4x5"):
        img, placed = render(scene(name), standing, 2048)
        assert placed.scale <= 1.0 and placed.window is not None
        x, y, ww, wh = placed.window
        assert img.shape[:2] == (wh, ww)  # the small drawing: the window at 1:1, not blown up to 2048
        assert sharpness_ratio(img, placed, standing) >= 0.95
        # Still a close-up: a part of the product, not all of it.
        pw, ph = standing.size
        assert ww * wh < 0.6 * pw * ph


def test_flat_lays_are_turned_and_stay_sharp(tee):
    for name in ("palette_complementary", "walnut_flatlay_4x5"):
        s = scene(name)
        assert s.tilt != 0
        img, placed = render(s, tee, 1024)
        assert isinstance(placed, Placement)
        if placed.scale <= 1:
            assert sharpness_ratio(img, placed, tee) >= 0.9


def test_white_main_stays_pure_white(tee):
    main, _ = render(scene("white_main"), tee, 1024)
    assert (main[:8] == 255).all() and (main[-8:] == 255).all()
    assert (main[:, :8] == 255).all() and (main[:, -8:] == 255).all()


def test_flat_lay_table_top_boards_run_the_whole_length():
    """Seen from above, a table top's boards run the whole frame: seams along them, no end joints across
    (wide panels with end joints read as a door)."""
    top = surfaces.flat("dark_wood", 512, 640)
    across = np.abs(np.diff(top, axis=1))  # steps across the boards: their seams
    along = np.abs(np.diff(top, axis=0))  # steps along them: end joints would show here
    assert float(np.percentile(across, 99.9)) > 0.1
    assert float(np.percentile(along, 99.9)) < 0.02
    # Narrow boards: several across the frame.
    profile = top.mean(axis=0)
    seams = int((profile < np.median(profile) - 0.1).sum())
    assert seams >= 6


def test_dark_set_floor_keeps_its_tone_against_a_moved_wall():
    """A mid-dark product moves the dark concrete wall lighter; the floor, the same concrete, follows."""
    rgb = np.full((40, 40, 3), 70, np.uint8)
    alpha = np.ones((40, 40), np.float32)
    p = palette(rgb, alpha)
    wall, floor = scene_colours("dark", p, p[0].lab[0])
    assert float(wall.mean()) > 80  # moved away from the product
    assert abs(float(floor.mean() / wall.mean()) - 56 / 74) < 0.03


def test_hung_garment_hangs_from_a_hook(tee, standing):
    """A garment on the wall hangs from a hanger's hook above its collar; a standing product has none."""

    def wire_above(product) -> int:
        img, placed = render(scene("studio_light"), product, 1024)
        empty = lightness(img)
        rows = np.nonzero((placed.alpha > 127).any(axis=1))[0]
        cols = np.nonzero((placed.alpha > 127).any(axis=0))[0]
        top, cx = placed.y + int(rows[0]), placed.x + int(cols[0] + cols[-1]) // 2
        span = max(8, (int(rows[-1]) - int(rows[0])) // 8)
        region = empty[max(0, top - span) : top - 1, cx - span : cx + span]
        wall = float(np.median(region))
        return int((region < wall - 40).sum())

    assert wire_above(tee) > 10
    assert wire_above(standing) == 0
