"""Garment analysis: cut the product out, decide what it is, find its landmarks.

Works on product photos (flat-lay, ghost mannequin) on plain backgrounds. All the
landmarks come from the silhouette, measured row by row: a garment photographed
from the front is close to left/right symmetric, its torso is the run of pixels
through the centre column, and sleeves and legs are what sticks out of it.

Side names follow the wearer, as for the person: ``l_`` is the wearer's own left,
which is on the image's RIGHT for a garment seen from the front.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from imaging.errors import PipelineError

CATEGORIES = ("tops", "bottoms", "one-pieces")

# The analysis runs on the cutout scaled to this height: enough for landmarks, cheap.
ANALYSIS_HEIGHT = 512


@dataclass
class Sleeve:
    """One sleeve, as a centre line from the shoulder to the cuff, in garment pixels."""

    shoulder: np.ndarray  # (2,) where the sleeve leaves the torso (top of the arm hole)
    cuff: np.ndarray  # (2,) centre of the sleeve's end
    half_width: float  # half width of the sleeve's opening (cuff), across its axis
    mask: np.ndarray  # HxW bool: the sleeve's pixels

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.cuff - self.shoulder))


@dataclass
class GarmentAnalysis:
    rgb: np.ndarray  # HxWx3 uint8, cropped around the garment
    alpha: np.ndarray  # HxW float32 0..1
    category: str  # "tops" | "bottoms" | "one-pieces"
    landmarks: dict[str, np.ndarray]  # name -> (2,) float32 (x, y) in rgb's pixels
    sleeves: dict[str, Sleeve] = field(default_factory=dict)  # "l" / "r", only those found
    torso_mask: np.ndarray | None = None  # HxW bool: the garment without its sleeves
    cutout_method: str = ""

    @property
    def mask(self) -> np.ndarray:
        return self.alpha > 0.5


def analyze_garment(rgb: np.ndarray, *, category: str = "auto", alpha: np.ndarray | None = None) -> GarmentAnalysis:
    """Cut out the garment in ``rgb`` and measure it.

    ``alpha`` skips the cutout when the caller already has one (e.g. an RGBA upload).
    Raises ``PipelineError("NO_GARMENT")`` when nothing garment-like can be separated.
    """
    if category not in ("auto", *CATEGORIES):
        raise PipelineError(
            "BAD_CATEGORY", f"Unknown garment category {category!r}; use auto, {', '.join(CATEGORIES)}."
        )
    method = "given"
    if alpha is None:
        from imaging.cutout import cut_out

        try:
            cut = cut_out(rgb)
        except PipelineError as exc:
            if exc.code == "NO_PRODUCT":
                raise PipelineError(
                    "NO_GARMENT",
                    "No garment could be separated from the background of the "
                    "garment photo; use a product photo on a plain background.",
                ) from exc
            raise
        photo, rgb, alpha, method = rgb, cut.rgb, cut.alpha, cut.method
    alpha = alpha.astype(np.float32)
    mask = alpha > 0.5
    # Light stripes or panels the cutout took for background split a garment into bands:
    # a vertical closing bridges such horizontal gaps without closing the slits between
    # sleeves and torso, which run vertically.
    k = max(3, int(0.03 * mask.shape[0]) | 1)
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((k, 1), np.uint8)).astype(bool)
    # (Measured after that closing: stripes are no fragmentation.)
    problem = separation_problem(mask)
    if problem:
        raise PipelineError(
            "GARMENT_NOT_SEPARABLE",
            f"The garment could not be cleanly separated from its background ({problem}). "
            "Please use a product photo of the garment laid flat or on a ghost mannequin, on a "
            "plain background of a clearly different colour (e.g. a white shirt on grey).",
        )
    mask = _fill_holes(_clean_mask(mask))
    if method != "given":
        # The gap between a hanging sleeve and the torso is background that the cutout or the
        # closing above may have filled as a hole: open such slits again, on the photo's colours.
        mask &= ~_background_slits(photo, mask)
        mask = _largest_component(mask, keep_ratio=0.15)
    # A print the cutout mistook for background leaves a hole: garments are solid inside.
    alpha = np.where(mask & (alpha < 0.5), 1.0, alpha * mask).astype(np.float32)
    if mask.sum() < 0.02 * mask.size:
        raise PipelineError("NO_GARMENT", "The garment photo shows no garment large enough to use.")

    # Crop around the garment with a small margin; everything below works in crop pixels.
    ys, xs = np.nonzero(mask)
    pad = int(0.02 * max(mask.shape))
    y0, y1 = max(0, ys.min() - pad), min(mask.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(mask.shape[1], xs.max() + pad + 1)
    rgb, alpha, mask = rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1] * mask[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    rgb = _clean_rim(rgb, mask)

    # Measure on a fixed-height copy; scale the results back.
    scale = ANALYSIS_HEIGHT / mask.shape[0]
    small = cv2.resize(
        mask.astype(np.uint8), (max(8, round(mask.shape[1] * scale)), ANALYSIS_HEIGHT), interpolation=cv2.INTER_NEAREST
    ).astype(bool)
    small = _largest_component(small)
    if category == "auto":
        category = classify_silhouette(small)
    if category == "bottoms":
        landmarks, sleeves_small, torso_small = _bottoms_landmarks(small), {}, small
    else:
        landmarks, sleeves_small, torso_small = _top_landmarks(small)

    inv = 1.0 / scale
    full_size = (mask.shape[1], mask.shape[0])
    landmarks = {k: (np.asarray(v, np.float32) + 0.5) * inv - 0.5 for k, v in landmarks.items()}
    sleeves = {
        side: Sleeve(
            shoulder=(s.shoulder + 0.5) * inv - 0.5,
            cuff=(s.cuff + 0.5) * inv - 0.5,
            half_width=s.half_width * inv,
            mask=cv2.resize(s.mask.astype(np.uint8), full_size, interpolation=cv2.INTER_NEAREST) > 0,
        )
        for side, s in sleeves_small.items()
    }
    torso = cv2.resize(torso_small.astype(np.uint8), full_size, interpolation=cv2.INTER_NEAREST) > 0
    return GarmentAnalysis(
        rgb=np.ascontiguousarray(rgb),
        alpha=np.ascontiguousarray(alpha),
        category=category,
        landmarks=landmarks,
        sleeves=sleeves,
        torso_mask=torso,
        cutout_method=method,
    )


# --- silhouette helpers ------------------------------------------------------------

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
    part = _fill_holes(labels == biggest)
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


def _clean_mask(mask: np.ndarray) -> np.ndarray:
    k = max(3, int(0.004 * max(mask.shape)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    return _largest_component(m.astype(bool), keep_ratio=0.15)


def _clean_rim(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
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
    colour = cv2.GaussianBlur(rgb.astype(np.float32) * inner[..., None], (0, 0), sigma)
    colour /= np.maximum(weight, 1e-3)[..., None]
    ok = rim & (weight > 0.02)
    out = rgb.copy()
    out[ok] = np.clip(colour[ok] + 0.5, 0, 255).astype(np.uint8)
    return out


def _background_slits(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Inside ``mask``, long vertical slits of the background's colour away from the centre:
    the gaps between long sleeves hanging down and the torso, enclosed where a cuff touches
    the hem. Stripes and prints of the background's colour are horizontal or compact, so a
    vertical opening removes them first; a white garment's whole body is far too large."""
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
            out |= labels == i
    return cv2.dilate(out.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) if out.any() else out


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill every background region that does not reach the image border."""
    h, w = mask.shape
    flood = np.zeros((h + 2, w + 2), np.uint8)
    flood[1:-1, 1:-1] = mask
    cv2.floodFill(flood, None, (0, 0), 2)
    return flood[1:-1, 1:-1] != 2


def _largest_component(mask: np.ndarray, keep_ratio: float = 0.0) -> np.ndarray:
    """The largest connected part, plus any other part at least ``keep_ratio`` of its size."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    threshold = areas.max() * keep_ratio if keep_ratio > 0 else areas.max()
    return np.isin(labels, np.flatnonzero(areas >= threshold) + 1)


def _centre_x(mask: np.ndarray) -> int:
    """The garment's symmetry axis: the column centroid of its lower-middle rows (torso, not sleeves)."""
    h = mask.shape[0]
    band = mask[int(0.45 * h) : int(0.85 * h)]
    xs = np.nonzero(band)[1]
    if xs.size == 0:
        xs = np.nonzero(mask)[1]
    # The band's own left/right extremes are more symmetric than its mass (prints don't matter here,
    # but a sleeve hanging into the band does): average the two estimates.
    return int(round((np.median(xs) + (xs.min() + xs.max()) / 2) / 2))


def _centre_runs(mask: np.ndarray, cx: int) -> tuple[np.ndarray, np.ndarray]:
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


def classify_silhouette(mask: np.ndarray) -> str:
    """tops / bottoms / one-pieces from the cut-out silhouette alone.

    Trousers have two legs: a gap below the crotch in the centre column that runs to the
    bottom edge. Dresses and jumpsuits are much taller than wide; tops are not.
    """
    ys, xs = np.nonzero(mask)
    h = ys.max() - ys.min() + 1
    w = xs.max() - xs.min() + 1
    cx = _centre_x(mask)
    column = mask[ys.min() : ys.max() + 1, cx]
    # Length of the empty stretch at the bottom of the centre column, as a share of the height.
    filled = np.flatnonzero(column)
    leg_gap = (h - 1 - filled.max()) / h if filled.size else 1.0
    # Top: the waistband of a bottom fills its top rows straight across; a top's neckline and
    # shoulders do not.
    top_rows = mask[ys.min() : ys.min() + max(2, h // 40)]
    top_fill = top_rows.any(axis=0).sum() / w
    aspect = h / w
    if leg_gap > 0.25 and aspect > 1.2:
        return "bottoms"
    if leg_gap > 0.08 and top_fill > 0.55 and aspect > 1.2:
        return "bottoms"  # shorts
    if aspect > 1.45:
        return "one-pieces"
    return "tops"


def _top_landmarks(mask: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, Sleeve], np.ndarray]:
    """Landmarks of a top or a dress: neckline, shoulders, armpits, sleeve ends, hem, waist."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    top, bottom = ys.min(), ys.max()
    gh = bottom - top + 1
    cx = _centre_x(mask)
    left, right = _centre_runs(mask, cx)
    rows = np.arange(h)
    valid = ~np.isnan(left)

    # Torso sides: the centre run's ends in the lower torso (below any sleeve), robustly.
    ref_band = valid & (rows > top + 0.55 * gh) & (rows < top + 0.9 * gh)
    if ref_band.sum() < 3:
        ref_band = valid
    ref_l, ref_r = float(np.median(left[ref_band])), float(np.median(right[ref_band]))
    torso_w = max(ref_r - ref_l, 1.0)

    # Armpits: walking up from the waist, the run jumps outwards where it meets a sleeve;
    # without sleeves, it narrows into the arm hole.
    jump = 0.12 * torso_w
    start = int(top + 0.6 * gh)
    stop = int(top + 0.08 * gh)

    def find_armpit(edge: np.ndarray, outward: float) -> tuple[int, bool]:
        prev = None
        for y in range(start, stop, -1):
            if np.isnan(edge[y]):
                continue
            if prev is not None and (edge[y] - prev) * outward > jump:
                return y + 1, True  # a sleeve joins the run: the armpit is just below
            prev = edge[y] if prev is None else 0.7 * prev + 0.3 * edge[y]
        # No sleeve joined: the arm hole starts where the side moves inwards by a clear margin.
        base = edge[start] if not np.isnan(edge[start]) else (ref_l if outward < 0 else ref_r)
        for y in range(start, stop, -1):
            if not np.isnan(edge[y]) and (base - edge[y]) * outward > 0.1 * torso_w:
                return y, False
        return int(top + 0.3 * gh), False

    l_img_y, l_img_sleeve = find_armpit(left, -1.0)  # image-left side = wearer's right
    r_img_y, r_img_sleeve = find_armpit(right, +1.0)
    armpit_img_l = np.array([left[l_img_y] if valid[l_img_y] else ref_l, l_img_y], np.float32)
    armpit_img_r = np.array([right[r_img_y] if valid[r_img_y] else ref_r, r_img_y], np.float32)

    # Top contour: the first mask row of every column.
    col_has = mask.any(axis=0)
    top_y = np.where(col_has, np.argmax(mask, axis=0), h).astype(np.float32)

    # Shoulders: where the top contour meets the line up from the armpit (sleeved), or the
    # outermost point of the strap/shoulder tops (sleeveless).
    def shoulder_point(armpit: np.ndarray, sleeved: bool, side: int) -> np.ndarray:
        if sleeved:
            x = int(np.clip(armpit[0] - side * 0.02 * torso_w, 0, w - 1))
            return np.array([x, top_y[x]], np.float32)
        band = mask[top : int(top + 0.1 * gh) + 1]
        bx = np.flatnonzero(band.any(axis=0))
        bx = bx[bx < cx] if side < 0 else bx[bx > cx]
        if bx.size == 0:
            return np.array([armpit[0], top], np.float32)
        x = int(bx.min() if side < 0 else bx.max())
        return np.array([x, top_y[x]], np.float32)

    sh_img_l = shoulder_point(armpit_img_l, l_img_sleeve, -1)
    sh_img_r = shoulder_point(armpit_img_r, r_img_sleeve, +1)

    # Neckline corners: the highest point of the top contour between each shoulder and the
    # centre (nearest the centre on ties); the neckline centre: the lowest point between them.
    def neck_corner(sh_x: float, side: int) -> np.ndarray:
        a, b = (int(sh_x), cx) if side < 0 else (cx, int(sh_x) + 1)
        seg = top_y[a:b]
        if seg.size == 0:
            return np.array([cx, top], np.float32)
        best = seg.min()
        idx = np.flatnonzero(seg <= best + 0.01 * gh)
        x = a + (idx.max() if side < 0 else idx.min())
        return np.array([x, top_y[x]], np.float32)

    neck_img_l = neck_corner(sh_img_l[0], -1)
    neck_img_r = neck_corner(sh_img_r[0], +1)
    lo, hi = int(min(neck_img_l[0], neck_img_r[0])), int(max(neck_img_l[0], neck_img_r[0])) + 1
    seg = top_y[lo:hi]
    neck_c = np.array([cx, seg.max() if seg.size and seg.max() < h else top], np.float32)

    # Hem: the bottom of the torso run (ignoring a few ragged rows) and the centre bottom.
    run_rows = np.flatnonzero(valid & ((right - left) > 0.5 * torso_w))
    hem_y = int(run_rows[int(0.98 * (len(run_rows) - 1))]) if run_rows.size else bottom
    hem_img_l = np.array([left[hem_y], hem_y], np.float32)
    hem_img_r = np.array([right[hem_y], hem_y], np.float32)
    hem_c = np.array([cx, np.flatnonzero(mask[:, cx]).max()], np.float32)

    # Waist: the narrowest torso run between the armpits and the hem (dresses show it best).
    a_y = int(max(armpit_img_l[1], armpit_img_r[1]))
    span = np.arange(a_y + int(0.1 * (hem_y - a_y)), max(a_y + 1, hem_y - int(0.2 * (hem_y - a_y))))
    span = span[valid[span]] if span.size else span
    if span.size:
        widths = right[span] - left[span]
        wy = int(span[np.argmin(widths)])
    else:
        wy = (a_y + hem_y) // 2
    waist_img_l = np.array([left[wy], wy], np.float32)
    waist_img_r = np.array([right[wy], wy], np.float32)

    # Sleeves: what lies outside the torso, i.e. outside the centre run below the armpit and
    # outside the vertical through the armpit above it.
    xx = np.arange(w)[None, :]
    bound_l = np.where(rows >= armpit_img_l[1], np.nan_to_num(left, nan=ref_l), armpit_img_l[0])[:, None]
    bound_r = np.where(rows >= armpit_img_r[1], np.nan_to_num(right, nan=ref_r), armpit_img_r[0])[:, None]
    sleeves: dict[str, Sleeve] = {}
    torso = mask.copy()
    for side_name, outside, shoulder, sleeved in (
        ("r", xx < bound_l, sh_img_l, l_img_sleeve),
        ("l", xx > bound_r, sh_img_r, r_img_sleeve),
    ):
        part = _largest_component(mask & outside)
        if not sleeved or part.sum() < 0.01 * mask.sum():
            continue
        armpit = armpit_img_l if side_name == "r" else armpit_img_r
        sleeve = _make_sleeve(part, shoulder, armpit, torso_w)
        if sleeve is not None:
            sleeves[side_name] = sleeve
            torso &= ~part

    # Check against scrambling: a silhouette much wider than its torso has sleeves even when
    # the run walk missed them (a print or stripes breaking the edges): whatever lies well
    # outside the torso's vertical band above the hem, after an opening that cuts thin bridges.
    k = max(3, int(0.04 * torso_w) | 1)
    opened = cv2.morphologyEx(
        mask.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    ).astype(bool)
    margin = 0.08 * torso_w
    for side_name, outside, side in (("r", xx < ref_l - margin, -1), ("l", xx > ref_r + margin, 1)):
        if side_name in sleeves:
            continue
        part = _largest_component(opened & outside & (rows < hem_y)[:, None])
        if part.sum() < 0.03 * mask.sum():
            continue
        py, px = np.nonzero(part)
        edge = ref_l if side < 0 else ref_r
        if (edge - px.min() if side < 0 else px.max() - edge) < 0.2 * torso_w:
            continue
        # The armpit: the part's lowest pixel next to the torso's side; the shoulder: the top
        # contour straight above it. The sleeve grows back to the band it was cut from.
        near_edge = np.abs(px - edge) < 3 * margin
        arm_y = int(py[near_edge].max()) if near_edge.any() else int(py.max())
        armpit = np.array([edge, arm_y], np.float32)
        shoulder = np.array([edge, top_y[int(np.clip(edge, 0, w - 1))]], np.float32)
        grown = cv2.dilate(part.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
        part = _largest_component(
            mask & grown & ((xx < edge) if side < 0 else (xx > edge)) & (rows <= arm_y)[:, None] | part
        )
        sleeve = _make_sleeve(part, shoulder, armpit, torso_w)
        if sleeve is not None:
            sleeves[side_name] = sleeve
            torso &= ~part
            if side < 0:
                armpit_img_l, sh_img_l = armpit, shoulder
            else:
                armpit_img_r, sh_img_r = armpit, shoulder

    lm = {
        "neck_center": neck_c,
        "r_neck": neck_img_l,
        "l_neck": neck_img_r,
        "r_shoulder": sh_img_l,
        "l_shoulder": sh_img_r,
        "r_armpit": armpit_img_l,
        "l_armpit": armpit_img_r,
        "r_waist": waist_img_l,
        "l_waist": waist_img_r,
        "r_hem": hem_img_l,
        "l_hem": hem_img_r,
        "hem_center": hem_c,
    }
    for side_name, s in sleeves.items():
        lm[f"{side_name}_cuff"] = s.cuff
    return lm, sleeves, torso


def _make_sleeve(part: np.ndarray, shoulder: np.ndarray, armpit: np.ndarray, torso_w: float) -> Sleeve | None:
    """A sleeve from its pixels: the axis runs from its root (halfway between the shoulder point
    and the armpit) through the pixels' centroid; the cuff is the middle of the slab of pixels
    farthest along that axis (not the farthest corner)."""
    py, px = np.nonzero(part)
    pts = np.stack([px, py], axis=1).astype(np.float32)
    root = (np.asarray(shoulder, np.float32) + np.asarray(armpit, np.float32)) / 2
    direction = pts.mean(axis=0) - root
    direction /= max(float(np.linalg.norm(direction)), 1e-6)
    proj = (pts - root) @ direction
    far = pts[proj >= 0.9 * proj.max()]
    cuff = far.mean(axis=0)
    axis = cuff - root
    length = float(np.linalg.norm(axis))
    if length < 0.1 * torso_w:
        return None
    across = (far - cuff) @ np.array([-axis[1], axis[0]]) / length
    half_width = float(max(np.percentile(across, 95) - np.percentile(across, 5), 2.0) / 2)
    return Sleeve(shoulder=root, cuff=cuff, half_width=half_width, mask=part)


def _bottoms_landmarks(mask: np.ndarray) -> dict[str, np.ndarray]:
    """Landmarks of trousers, shorts or a skirt: waistband ends, crotch, leg openings."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    top, bottom = ys.min(), ys.max()
    gh = bottom - top + 1
    cx = _centre_x(mask)
    left, right = _centre_runs(mask, cx)
    wy = int(top + 0.03 * gh)
    while wy < bottom and np.isnan(left[wy]):
        wy += 1
    waist_img_l = np.array([left[wy], wy], np.float32)
    waist_img_r = np.array([right[wy], wy], np.float32)
    column = np.flatnonzero(mask[:, cx])
    crotch_y = float(column.max()) if column.size else top + 0.35 * gh
    crotch = np.array([cx, crotch_y], np.float32)
    # Leg openings: outer and inner ends of the bottom rows, per side of the centre.
    by = int(top + 0.98 * gh)
    row = np.flatnonzero(mask[by])
    lm = {"r_waist": waist_img_l, "l_waist": waist_img_r, "crotch": crotch}
    lrow, rrow = row[row < cx], row[row >= cx]
    if lrow.size and rrow.size and crotch_y < bottom - 0.08 * gh:
        lm.update(
            r_hem_out=np.array([lrow.min(), by], np.float32),
            r_hem_in=np.array([lrow.max(), by], np.float32),
            l_hem_in=np.array([rrow.min(), by], np.float32),
            l_hem_out=np.array([rrow.max(), by], np.float32),
        )
    else:  # a skirt: one opening
        lm.update(r_hem_out=np.array([row.min(), by], np.float32), l_hem_out=np.array([row.max(), by], np.float32))
    # Hip line: a quarter of the way from the waistband to the crotch... widest run there.
    hy = int(wy + 0.5 * (crotch_y - wy))
    if not np.isnan(left[hy]):
        lm["r_hip"] = np.array([left[hy], hy], np.float32)
        lm["l_hip"] = np.array([right[hy], hy], np.float32)
    return lm


def draw_garment_debug(garment: GarmentAnalysis) -> np.ndarray:
    """The cut-out garment on grey with its torso/sleeve split and landmarks drawn."""
    a = garment.alpha[..., None]
    out = (garment.rgb * a + 128 * (1 - a)).astype(np.uint8)
    out = np.ascontiguousarray(out)
    colours = {"l": (255, 0, 160), "r": (0, 160, 255)}
    for side, s in garment.sleeves.items():
        contours, _ = cv2.findContours(s.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, colours[side], 2)
        cv2.line(out, tuple(int(v) for v in s.shoulder), tuple(int(v) for v in s.cuff), colours[side], 2)
    r = max(3, garment.rgb.shape[0] // 150)
    for name, p in garment.landmarks.items():
        colour = (255, 60, 60) if name.startswith("l_") else (60, 60, 255) if name.startswith("r_") else (40, 200, 40)
        cv2.circle(out, (int(p[0]), int(p[1])), r, colour, -1)
        cv2.putText(out, name, (int(p[0]) + r, int(p[1]) - r), cv2.FONT_HERSHEY_SIMPLEX, 0.35 * r / 3, colour, 1)
    cv2.putText(out, garment.category, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    return out
