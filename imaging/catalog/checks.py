"""Objective checks of a rendered catalog set, printed by ``bench/catalog.py`` and asserted by the tests.

* distinct: the smallest mean absolute difference (0-255) between two images
  of the set, each squeezed to a 64 x 64 thumbnail; a set whose images differ
  only slightly in colour scores low (12 or more passes);
* halo: the mean lightness step (0-255) that the product adds in the 3 px
  band just outside its outline (matte >= 0.5), against the same set drawn
  without it; a light rim carried from the photo's backdrop shows as a
  positive step on a dark scene (under 6 passes); so does a
  soft edge's skirt of product colour, a glow around a light product;
* rim: the same step less what a sharp, exactly anti-aliased edge of the
  product's own colour along the same outline would add: about 0 for a clean
  edge at any contrast, what is left is light that should not be there;
* reflection: the correlation between the product's lightness just above the
  mirror line and the floor's just below it, row for row; a floor that does
  not mirror the product scores about 0;
* sharpness: the product's gradient strength in the image against the
  source's at the image's own scale (the source reduced to that scale, never
  enlarged); below 1 the image is softer than the source could have given
  (an upscale is, about by its factor).
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from .scenes import Placement, Product, Scene, render

THUMB = 64
HALO_BAND = 3


def thumbnail(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)


def min_pairwise_distance(images: list[np.ndarray], names: list[str]) -> tuple[float, str, str]:
    """The closest pair of the set: (distance, name, name)."""
    thumbs = [thumbnail(img) for img in images]
    best = (float("inf"), "", "")
    for (i, a), (j, b) in itertools.combinations(enumerate(thumbs), 2):
        d = float(np.abs(a - b).mean())
        if d < best[0]:
            best = (d, names[i], names[j])
    return best


def _lightness(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _band(inside: np.ndarray) -> np.ndarray:
    k = np.ones((2 * HALO_BAND + 1, 2 * HALO_BAND + 1), np.uint8)
    return cv2.dilate(inside.astype(np.uint8), k).astype(bool) & ~inside


def halo(image: np.ndarray, empty: np.ndarray, placement: Placement) -> float:
    """Mean lightness step in the band just outside the product, against the empty set (0-255, signed).

    The pass figure. It counts the edge's own anti-aliasing too: a smooth edge has pixels of 0-50 %
    coverage just outside its half-way line, so it grows with the contrast and with the edge's
    softness (a disc of level 235 on 30, anti-aliased exactly, scores about 5.5; blurred by 0.7 px,
    about 15). :func:`rim` takes a sharp edge's share out and leaves the rim alone.
    """
    h, w = image.shape[:2]
    band = _band(placement.frame_alpha(h, w) >= 0.5)
    if not band.any():
        return 0.0
    return float((_lightness(image)[band] - _lightness(empty)[band]).mean())


def crisp_coverage(alpha: np.ndarray, factor: int = 4) -> np.ndarray:
    """The coverage a perfectly sharp edge along the matte's half-way line would give each pixel.

    The matte is enlarged ``factor`` times (bilinear), cut at one half and reduced again by area:
    an exactly anti-aliased edge, one pixel of partial coverage, wherever the matte's own edge lies.
    Done in strips of rows to keep the enlarged copy small.
    """
    h, w = alpha.shape
    out = np.empty_like(alpha, dtype=np.float32)
    step, pad = 128, 2
    for r0 in range(0, h, step):
        r1 = min(h, r0 + step)
        a0, a1 = max(0, r0 - pad), min(h, r1 + pad)
        strip = np.ascontiguousarray(alpha[a0:a1], np.float32)
        big = cv2.resize(strip, (w * factor, (a1 - a0) * factor), interpolation=cv2.INTER_LINEAR)
        cut = (big >= 0.5).astype(np.float32)
        small = cv2.resize(cut, (w, a1 - a0), interpolation=cv2.INTER_AREA)
        out[r0:r1] = small[r0 - a0 : r1 - a0]
    return out


def rim(image: np.ndarray, empty: np.ndarray, placement: Placement) -> float:
    """Mean lightness step (0-255, signed) in the 3 px band just outside the product, against the empty
    set, beyond what a sharp edge of the product's own colour along the same outline adds.

    Each band pixel is compared with the empty set plus the product's share a crisp, exactly
    anti-aliased edge would give it: coverage (:func:`crisp_coverage`) times the step from the set to
    the solid product colour just inside. What is left is a rim: light of the photo's old backdrop
    carried in the edge colour, or a matte softer and wider than the product's edge (a glow). A
    perfect edge scores about 0 whatever the contrast; the raw step is :func:`halo`.
    """
    h, w = image.shape[:2]
    alpha = placement.frame_alpha(h, w)
    band = _band(alpha >= 0.5)
    if not band.any():
        return 0.0
    ys, xs = np.nonzero(band)
    pad = 2 * (2 + HALO_BAND)
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + 1 + pad)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + 1 + pad)
    a = alpha[y0:y1, x0:x1]
    grey, set_grey = _lightness(image[y0:y1, x0:x1]), _lightness(empty[y0:y1, x0:x1])
    solid = (a > 0.99).astype(np.float32)
    sigma = 2.0 + HALO_BAND
    product = cv2.GaussianBlur(grey * solid, (0, 0), sigma) / (cv2.GaussianBlur(solid, (0, 0), sigma) + 1e-4)
    b = band[y0:y1, x0:x1]
    c = crisp_coverage(a)[b]
    sharp_edge = set_grey[b] + c * (product[b] - set_grey[b])
    return float((grey[b] - sharp_edge).mean())


def backdrop_lightness(empty: np.ndarray, placement: Placement) -> float:
    """Mean lightness of the set around the product (a band 4 % of the frame wide): dark or light scene."""
    h, w = empty.shape[:2]
    inside = placement.frame_alpha(h, w) >= 0.5
    r = max(3, round(0.04 * max(h, w)))
    ring = cv2.dilate(inside.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool) & ~inside
    return float(_lightness(empty)[ring].mean()) if ring.any() else float(_lightness(empty).mean())


def reflection_correlation(image: np.ndarray, empty: np.ndarray, placement: Placement) -> float | None:
    """Correlation of the mirrored product with what the product adds to the floor below the mirror line.

    Row ``m + j`` of the floor is compared with row ``m - j`` above, across the product's width (its
    silhouette, its light and dark parts): the mirrored product is its coverage times its contrast
    with the floor there, the floor's share is the image less the same set drawn without the product
    (so the floor's own veins and the light's highlight count neither way). About 0 for a floor that
    does not mirror the product; None without a mirror line.
    """
    if placement.mirror_y is None:
        return None
    h, w = image.shape[:2]
    m = placement.mirror_y
    alpha = placement.frame_alpha(h, w)
    added = _lightness(image) - _lightness(empty)
    cols = np.nonzero((alpha > 0.5).any(axis=0))[0]
    if cols.size < 8:
        return None
    c0, c1 = cols[0], cols[-1] + 1
    span = min(m, h - 1 - m)
    j = np.arange(1, span + 1)
    above, below = m - j, m + j
    present = (alpha[above, c0:c1] > 0.5).any(axis=1)
    rows = np.nonzero(present)[0]
    # The reflection fades with distance: the part within 40 % of the product's height is what shows.
    tall = int((placement.alpha > 127).any(axis=1).sum())
    rows = rows[rows < rows[0] + max(4, int(0.4 * tall))] if rows.size else rows
    if rows.size < 4:
        return None
    # What a mirror would add below: the product's coverage above times its contrast with the floor.
    grey, floor = _lightness(image), _lightness(empty)
    cover = alpha[above[rows], c0:c1]
    a = (cover * (grey[above[rows], c0:c1] - floor[below[rows], c0:c1])).ravel()
    b = added[below[rows], c0:c1].ravel()
    if a.std() < 1e-3 or b.std() < 1e-3:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _gradient_strength(grey: np.ndarray, mask: np.ndarray) -> float:
    """Mean of the strongest tenth of the gradient magnitudes inside ``mask``: edges and texture, not noise."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.sqrt(gx * gx + gy * gy)[mask]
    if mag.size < 50:
        return 0.0
    cut = np.percentile(mag, 90)
    return float(mag[mag >= cut].mean())


def sharpness_ratio(image: np.ndarray, placement: Placement, product: Product) -> float:
    """The product's gradient strength in the image / in the source at the image's scale (never enlarged)."""
    h, w = image.shape[:2]
    k = np.ones((7, 7), np.uint8)
    inside = cv2.erode((placement.frame_alpha(h, w) > 0.99).astype(np.uint8), k).astype(bool)
    src_alpha = product.alpha
    src = product.premult / np.maximum(src_alpha, 1e-3)[..., None]
    if placement.window is not None:  # a close-up: its own window of the source
        x, y, ww, wh = placement.window
        src, src_alpha = src[y : y + wh, x : x + ww], src_alpha[y : y + wh, x : x + ww]
    s = min(1.0, placement.scale)
    if s < 1:
        size = (max(1, round(src_alpha.shape[1] * s)), max(1, round(src_alpha.shape[0] * s)))
        src = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
        src_alpha = cv2.resize(src_alpha, size, interpolation=cv2.INTER_AREA)
    src_inside = cv2.erode((src_alpha > 0.99).astype(np.uint8), k).astype(bool)
    ref = _gradient_strength(
        cv2.cvtColor(np.clip(src, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32), src_inside
    )
    out = _gradient_strength(_lightness(image), inside)
    return out / ref if ref > 0 else 1.0


# Pass thresholds of the checks.
MIN_DISTANCE = 12.0
MAX_HALO = 6.0
MIN_REFLECTION = 0.3
MIN_SHARPNESS = 0.9
DARK_SCENE = 100.0  # a scene whose set around the product is darker than this (0-255) is a dark scene


def check_set(
    images: list[np.ndarray],
    placements: list[Placement],
    product: Product,
    scenes: tuple[Scene, ...],
    long_side: int,
) -> dict:
    """Every check on one rendered set: the figures, per scene where they apply, and whether each passes."""
    names = [s.name for s in scenes]
    distance, a, b = min_pairwise_distance(images, names)
    halos: dict[str, float] = {}
    rims: dict[str, float] = {}
    lightness: dict[str, float] = {}
    reflections: dict[str, float] = {}
    sharpness: dict[str, float] = {}
    for image, placement, scene in zip(images, placements, scenes, strict=True):
        sharpness[scene.name] = round(sharpness_ratio(image, placement, product), 3)
        if not scene.detail:
            empty, _ = render(scene, product, long_side, draw_product=False)
            corr = reflection_correlation(image, empty, placement)
            if corr is not None:
                reflections[scene.name] = round(corr, 3)
            lightness[scene.name] = backdrop_lightness(empty, placement)
            halos[scene.name] = round(halo(image, empty, placement), 2)
            rims[scene.name] = round(rim(image, empty, placement), 2)
    dark = [n for n, v in lightness.items() if v < DARK_SCENE]
    darkest = min(lightness, key=lightness.__getitem__)
    lightest = max(lightness, key=lightness.__getitem__)
    dark_halo = max(halos[n] for n in dark or [darkest])
    return {
        "min_distance": round(distance, 2),
        "closest_pair": [a, b],
        "halo_dark": {n: halos[n] for n in dark or [darkest]},
        "halo_lightest": {lightest: halos[lightest]},
        # The same band, less what a sharp edge of the product's own colour would add: the rim alone.
        "rim_dark": {n: rims[n] for n in dark or [darkest]},
        "reflection": reflections,
        "sharpness": sharpness,
        "pass": {
            "distinct": distance >= MIN_DISTANCE,
            "halo": dark_halo < MAX_HALO,
            "reflection": bool(reflections) and min(reflections.values()) >= MIN_REFLECTION,
            "sharpness": min(sharpness.values()) >= MIN_SHARPNESS,
        },
    }
