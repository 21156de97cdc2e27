import numpy as np

from imaging.catalog.describe import palette
from imaging.catalog.scenes import SET_12, prepare_product, render
from tests.catalog.drawings import white_tee


def scene(name: str):
    return next(s for s in SET_12 if s.name == name)


def product(flat: bool):
    rgb, mask = white_tee(stripes=True)
    alpha = mask.astype(np.float32)
    ys, xs = np.nonzero(mask)
    bbox = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return prepare_product(rgb, alpha, bbox, palette(rgb, alpha), flat=flat)


def test_flat_product_gets_a_drop_shadow_not_a_floor_reflection():
    standing, flat = product(False), product(True)
    a = render(scene("reflective_floor"), standing, 1024).astype(np.float32)
    b = render(scene("reflective_floor"), flat, 1024).astype(np.float32)
    h, w = a.shape[:2]
    # Below the floor line the standing product is mirrored (dark stripes), the flat one is not.
    floor = round(0.84 * h)
    below = (slice(floor + 4, min(h, floor + 60)), slice(w // 2 - 60, w // 2 + 60))
    assert a[below].min() < b[below].min() - 40
    # The flat product's shadow falls below it: just under its lower edge the backdrop is darker
    # than the same backdrop further down.
    main = render(scene("white_main"), flat, 1024)
    non_white = np.nonzero((main < 250).any(axis=2).any(axis=1))[0]
    assert non_white.size
    cols = (main < 200).any(axis=2).any(axis=0).nonzero()[0]
    y_base = np.nonzero((main[:, cols.min() : cols.max()] < 200).any(axis=2).any(axis=1))[0].max()
    just_below = main[y_base + 3 : y_base + 10, cols.min() + 20 : cols.max() - 20].astype(np.float32)
    assert just_below.mean() < 250
    assert (main[:8] == 255).all() and (main[-8:] == 255).all()  # the marketplace background stays white
