"""A garment's silhouette: is it a usable cut-out, how to clean it, where is its axis, what category is it.

Product photos (flat-lay, ghost mannequin) on plain backgrounds: a garment
photographed from the front is close to left/right symmetric, its torso is the run
of pixels through the centre column, and sleeves and legs are what sticks out of it.
"""

from __future__ import annotations

import cv2
import numpy as np

from imaging.masks import fill_holes, largest_component
from imaging.types import Category

# Limits of a usable cutout, from the dev garments (flat-lays and ghost mannequins): the largest
# part holds >= 95% of the mask, solidity (area over convex hull, holes filled) >= 0.63,
# bounding-box aspect 0.6..2.5. A garment that blends into its background (white on white)
# leaves only its print or seams: scattered fragments, a lacy outline, a thin strip.
MIN_LARGEST_SHARE = 0.6
MIN_SOLIDITY = 0.4
MIN_HULL_FILL = 0.3
MAX_ASPECT = 5.0
MIN_FRAME_SHARE = 0.06  # product photos frame the garment; the dev set's smallest covers 17%


def separation_problem(mask: np.ndarray) -> str:
    """Why a cutout mask is no usable garment silhouette ("" if it is): measured on the raw mask."""
    m = mask.astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return ""  # nothing at all: NO_GARMENT, decided by the caller
    areas = stats[1:, cv2.CC_STAT_AREA]
    total = float(areas.sum())
    if total < 0.02 * mask.size:
        return ""  # too small: NO_GARMENT
    biggest = int(np.argmax(areas)) + 1
    if total < MIN_FRAME_SHARE * mask.size:
        return f"only {100 * total / mask.size:.0f}% of the photo was separated, likely just a print"
    if areas.max() / total < MIN_LARGEST_SHARE:
        significant = int((areas > 0.01 * total).sum())
        return f"the cutout falls apart into {significant} pieces"
    part = fill_holes(labels == biggest)
    contours, _ = cv2.findContours(part.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull_area = max(cv2.contourArea(cv2.convexHull(np.concatenate(contours))), 1.0)
    solidity = part.sum() / hull_area
    if solidity < MIN_SOLIDITY:
        return f"its outline is ragged (solidity {solidity:.2f})"
    ys, xs = np.nonzero(m)
    everything = cv2.convexHull(np.stack([xs, ys], axis=1).astype(np.int32))
    hull_fill = total / max(cv2.contourArea(everything), 1.0)
    if hull_fill < MIN_HULL_FILL:
        return f"it covers only {100 * hull_fill:.0f}% of its own outline"
    bw, bh = stats[biggest, cv2.CC_STAT_WIDTH], stats[biggest, cv2.CC_STAT_HEIGHT]
    aspect = max(bw / max(bh, 1), bh / max(bw, 1))
    if aspect > MAX_ASPECT:
        return f"only a thin strip of it remains (aspect {aspect:.1f})"
    return ""


def clean_mask(mask: np.ndarray) -> np.ndarray:
    k = max(3, int(0.004 * max(mask.shape)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    return largest_component(m.astype(bool), keep_ratio=0.15)


def clean_rim(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The silhouette's outermost pixels mix the garment with the background (a light fringe on
    white): give them the colour of the garment just inside. Once warped, a sleeve's edge lies
    over the torso, where such a fringe shows as white slivers."""
    m = mask.astype(np.uint8)
    inner = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))).astype(np.float32)
    rim = (m > 0) & (inner == 0)
    if not rim.any() or not inner.any():
        return rgb
    sigma = 3.0
    weight = cv2.GaussianBlur(inner, (0, 0), sigma)
    colour: np.ndarray = cv2.GaussianBlur(rgb.astype(np.float32) * inner[..., None], (0, 0), sigma)
    colour /= np.maximum(weight, 1e-3)[..., None]
    ok = rim & (weight > 0.02)
    out = rgb.copy()
    out[ok] = np.clip(colour[ok] + 0.5, 0, 255).astype(np.uint8)
    return out


def background_slits(rgb: np.ndarray, mask: np.ndarray, cut_alpha: np.ndarray | None = None) -> np.ndarray:
    """Inside ``mask``, long vertical slits of the background's colour away from the centre:
    the gaps between long sleeves hanging down and the torso, enclosed where a cuff touches
    the hem. Stripes and prints of the background's colour are horizontal or compact, so a
    vertical opening removes them first; a white garment's whole body is far too large.

    A white garment's shaded side on a near-white backdrop has the backdrop's colour too, but it is
    solid fabric: a slit is either what the cutout itself called background (``cut_alpha`` under 0.5,
    taken in by a later closing or hole filling) or an opening with the garment's edge clear on both
    of its sides (fabric shading into the backdrop's colour has no edge on its inner side)."""
    h, w = mask.shape
    if not mask.any():
        return np.zeros_like(mask)
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.float32)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).astype(np.float32)
    bg = cv2.cvtColor(np.median(border, axis=0).astype(np.uint8)[None, None], cv2.COLOR_RGB2Lab)[0, 0]
    near = (np.linalg.norm(lab - bg.astype(np.float32), axis=2) < 10) & mask
    ys, xs = np.nonzero(mask)
    gh, gw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    k = max(5, int(0.07 * gh))
    near = cv2.morphologyEx(near.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k, 3), np.uint8))
    n, labels, stats, cents = cv2.connectedComponentsWithStats(near, connectivity=8)
    cx = (xs.min() + xs.max()) / 2
    out = np.zeros((h, w), bool)
    for i in range(1, n):
        bw, bh, area = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT], stats[i, cv2.CC_STAT_AREA]
        if bh > 0.15 * gh and bh > 3 * bw and area < 0.08 * mask.sum() and abs(cents[i][0] - cx) > 0.15 * gw:
            piece = labels == i
            left_out = cut_alpha is not None and float(np.mean(cut_alpha[piece] < 0.5)) > 0.5
            if cut_alpha is None or left_out or _edged_both_sides(lab[..., 0], piece) >= SLIT_EDGE:
                out |= piece
    return cv2.dilate(out.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) if out.any() else out


# A slit's sides must each show an edge this strong (median over its rows of the largest horizontal Sobel
# response of Lab L, 0-255, within a few pixels of the side): a garment's outline against the backdrop.
SLIT_EDGE = 40.0


def _edged_both_sides(lightness: np.ndarray, piece: np.ndarray) -> float:
    """The weaker of the two sides' edge strengths along a vertical piece (see ``SLIT_EDGE``)."""
    gx = np.abs(cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3))
    w = piece.shape[1]
    lefts, rights = [], []
    for y in np.flatnonzero(piece.any(axis=1)):
        xs = np.flatnonzero(piece[y])
        x0, x1 = int(xs.min()), int(xs.max())
        lefts.append(gx[y, max(0, x0 - 3) : x0 + 2].max())
        rights.append(gx[y, x1 - 1 : min(w, x1 + 4)].max())
    return float(min(np.median(lefts), np.median(rights)))


def centre_x(mask: np.ndarray) -> int:
    """The garment's symmetry axis: the column centroid of its lower-middle rows (torso, not sleeves)."""
    h = mask.shape[0]
    band = mask[int(0.45 * h) : int(0.85 * h)]
    xs = np.nonzero(band)[1]
    if xs.size == 0:
        xs = np.nonzero(mask)[1]
    # The band's own left/right extremes are more symmetric than its mass (prints don't matter here,
    # but a sleeve hanging into the band does): average the two estimates.
    return int(round((np.median(xs) + (xs.min() + xs.max()) / 2) / 2))


def centre_runs(mask: np.ndarray, cx: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the [left, right] ends of the run of mask pixels through column ``cx`` (NaN if none)."""
    h, w = mask.shape
    left = np.full(h, np.nan, np.float32)
    right = np.full(h, np.nan, np.float32)
    for y in np.flatnonzero(mask[:, cx]):
        row = mask[y]
        gaps_left = np.flatnonzero(~row[:cx])
        gaps_right = np.flatnonzero(~row[cx:])
        left[y] = gaps_left[-1] + 1 if gaps_left.size else 0
        right[y] = cx + gaps_right[0] - 1 if gaps_right.size else w - 1
    return left, right


def _runs(row: np.ndarray) -> int:
    """How many separate runs of mask pixels a row holds."""
    return int((np.diff(np.concatenate(([0], row.astype(np.int8), [0]))) == 1).sum())


def classify_silhouette(mask: np.ndarray) -> Category:
    """tops / bottoms / one-pieces from the cut-out silhouette alone.

    Trousers have two legs: a gap below the crotch in the centre column that runs to the
    bottom edge; or, where flared hems touch or overlap at the centre (the centre column is
    then filled to the bottom), rows in the lower part split into exactly two runs under a
    waistband that fills the top rows straight across. Dresses and jumpsuits are much taller
    than wide; tops are not. Thresholds from the 42 dev product photos (tops, trousers,
    skirts, dresses): a top's hanging sleeves also split its lower rows, but into three runs
    and under a neckline, not a waistband. A camisole's straps do not count towards its height.
    """
    ys, xs = np.nonzero(mask)
    h = ys.max() - ys.min() + 1
    w = xs.max() - xs.min() + 1
    cx = centre_x(mask)
    column = mask[ys.min() : ys.max() + 1, cx]
    # Length of the empty stretch at the bottom of the centre column, as a share of the height.
    filled = np.flatnonzero(column)
    leg_gap = (h - 1 - filled.max()) / h if filled.size else 1.0
    # Top: the waistband of a bottom fills its top rows straight across; a top's neckline and
    # shoulders do not.
    top_rows = mask[ys.min() : ys.min() + max(2, h // 40)]
    top_fill = top_rows.any(axis=0).sum() / w
    # Share of the lower 40% of rows made of exactly two runs: two legs.
    lower = range(ys.min() + int(0.6 * h), ys.max() + 1)
    two_legs = float(np.mean([_runs(mask[y]) == 2 for y in lower]))
    aspect = h / w
    if leg_gap > 0.25 and aspect > 1.2:
        return Category.BOTTOMS
    if leg_gap > 0.08 and top_fill > 0.55 and aspect > 1.2:
        return Category.BOTTOMS  # shorts
    if two_legs > 0.85 and top_fill > 0.5:
        return Category.BOTTOMS  # flares whose hems meet at the centre, or shorts
    if aspect <= 1.6 and top_fill > 0.4 and _runs(np.asarray(top_rows.any(axis=0))) == 1:
        # A skirt: a straight waistband that widens steadily to the hem (a top's widest rows are
        # its shoulders or sleeves; a camisole's top rows are two straps).
        width = [mask[ys.min() + int(f * (h - 1))].sum() / w for f in (0.05, 0.5, 0.9)]
        if width[0] < 0.7 * width[2] and width[0] <= width[1] <= width[2] + 0.05:
            return Category.BOTTOMS
    # Dresses and jumpsuits are much taller than wide, measured without straps: a camisole's straps
    # can double its height over the body they hold (the body starts at the first row that fills
    # a good share of the width, which a sleeveless dress's shoulders or a collar already do).
    fill = mask[ys.min() : ys.max() + 1].sum(axis=1)
    body_top = int(np.flatnonzero(fill >= 0.3 * w)[0]) if (fill >= 0.3 * w).any() else 0
    if (h - body_top) / w > 1.5:
        return Category.ONE_PIECES
    return Category.TOPS
