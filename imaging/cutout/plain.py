"""The plain matte: the product told from a plain background by its colour distance to the background model.

Precise where it applies (studio sweeps, grey cards, smooth gradients): the
edge follows the real colour transition, holes that show the background
(mug handles, bag straps) stay open, the original photo's soft shadow is
removed, and on a backdrop flat to the level (retouched product photos) a
tight level/texture model finds white on white. :func:`uncertainty` says
when the network should be asked for a second opinion.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imaging.masks import box_filter, keep_main_components

from .background import BackgroundModel, border_ring

# A penumbra this many times the edge width: a shadow wherever it lies, even at JPEG's grain.
VERY_SOFT = 1.4
# Local texture (levels) JPEG leaves in a smooth grey area: a shadow's, not a fabric's weave.
JPEG_TEXTURE = 1.6


def shadow_mask(
    lab: np.ndarray,
    bg: BackgroundModel,
    fg: np.ndarray,
    edge_px: int,
    rgb: np.ndarray,
    tight: TightEvidence | None = None,
) -> tuple[np.ndarray, int]:
    """The original photo's soft shadow: grey, darker than the background, soft-edged, under the product.

    Candidates are pixels whose chroma matches the background but which are
    darker (a shadow only takes light away). A candidate region counts as
    shadow when it sits in the lower part of the product and its boundary with
    the background is soft (a penumbra several pixels wide), where a grey
    product part would have a sharp edge; anywhere along the outline when that
    penumbra is very soft (the drop shadow beside a sleeve or a trouser leg). With the tight model (a backdrop
    flat to the level, where this can be told) a shadow
    must also darken the backdrop's three channels in the same ratio and be as
    smooth as the backdrop.
    """
    dl = bg.lab[..., 0] - lab[..., 0]
    dchroma = np.hypot(lab[..., 1] - bg.lab[..., 1], lab[..., 2] - bg.lab[..., 2])
    cand = fg & (dl > 2.0) & (lab[..., 0] > 0.4 * bg.lab[..., 0]) & (dchroma < max(3 * bg.sigma, 5.0))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(fg), 0
    ys = np.nonzero(fg.any(axis=1))[0]
    y0, y1 = ys[0], ys[-1]
    fg_area = fg.sum()
    background = cv2.dilate((~fg).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    l_blur = cv2.GaussianBlur(lab[..., 0], (0, 0), 1.0)
    gx = cv2.Sobel(l_blur, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(l_blur, cv2.CV_32F, 0, 1, ksize=3) / 8
    grad = np.sqrt(gx * gx + gy * gy)
    shadow = np.zeros_like(fg)
    found = 0
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        if area < 0.002 * fg_area or area > 0.5 * fg_area:
            continue
        comp = labels[y : y + ch, x : x + cw] == i
        edge = comp & background[y : y + ch, x : x + cw]
        if edge.sum() < 10:
            continue
        contrast = float(np.median(dl[y : y + ch, x : x + cw][comp]))
        slope = float(np.median(grad[y : y + ch, x : x + cw][edge])) + 1e-3
        # Penumbra width = contrast / slope: a soft shadow fades over many pixels.
        penumbra = contrast / slope
        # A very soft one is a shadow wherever it lies (a drop shadow along a sleeve or a trouser leg,
        # lit from above-front); others only under the product, where a grey part is less likely.
        very_soft = penumbra >= VERY_SOFT * edge_px
        if y + ch / 2 < y0 + 0.6 * (y1 - y0) and not very_soft:
            continue
        if tight is not None:
            # A shadow scales the backdrop's three channels alike; shaded white fabric keeps its own
            # faint tint (a bluish white is darker in red and green only): spread of the ratios.
            ratio = rgb[y : y + ch, x : x + cw][comp].astype(np.float32) / np.maximum(
                bg.rgb[y : y + ch, x : x + cw][comp], 1.0
            )
            if float(np.median(ratio.max(axis=1) - ratio.min(axis=1))) > 0.012:
                continue
            # And it is as smooth as the backdrop (net of its own gradient), where fabric has a weave.
            # (A backdrop clipped at white has no noise at all, the grey of a shadow on it has JPEG's:
            # a very soft penumbra allows that much, a level or so, not a weave.)
            lum = lab[y : y + ch, x : x + cw, 0] * np.float32(2.55)
            fine = np.sqrt(box_filter((lum - box_filter(lum, 2)) ** 2, 2))
            allowed = max(tight.t_texture - 0.2, JPEG_TEXTURE if very_soft else 0.0)
            if float(np.median(fine[comp])) > allowed:
                continue
        if penumbra >= edge_px:
            shadow[y : y + ch, x : x + cw] |= comp
            found += 1
    if found:
        # The penumbra's faint outer fringe, darker than the backdrop by less than the candidates'
        # threshold, joins its shadow (within a couple of edge widths): left alone, JPEG's grain in it
        # reads as product evidence and it stays as a thin grey line beside the product. Fabric is
        # either brighter than the backdrop (white) or well darker (grey), never in this band.
        faint = fg & (dl > 0.5) & (dl <= 2.0) & (dchroma < max(3 * bg.sigma, 5.0))
        k = np.ones((4 * edge_px + 1, 4 * edge_px + 1), np.uint8)
        shadow |= faint & cv2.dilate(shadow.astype(np.uint8), k).astype(bool)
    return shadow, found


def border_strips(mask: np.ndarray) -> np.ndarray:
    """Mask components lying wholly inside a thin band along the image edge (frame lines, scan margins)."""
    h, w = mask.shape
    b = max(3, round(0.03 * min(h, w)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    strips = np.zeros(n, dtype=bool)
    for i in range(1, n):
        x, y, cw, ch, _ = stats[i]
        strips[i] = y + ch <= b or y >= h - b or x + cw <= b or x >= w - b
    return strips[labels]


@dataclass
class TightEvidence:
    """Product evidence against a near-flat background, in RGB levels.

    Retouched product photos often sit on a background that is flat to the
    level (every border pixel 246, 246, 246). A white garment on it differs by
    only 2-4 levels, below any Lab threshold that also has to work on real
    paper sweeps, but it is consistently brighter and it has fabric texture
    (local deviation of a level or so) where the background has none. These
    maps measure both against the border's own noise.
    """

    frac: np.ndarray  # float32, share of evidence pixels in a small window (0-1)
    bg_like: np.ndarray  # bool, pixels that look exactly like the background (level and texture)
    t_level: float  # brighter / chroma threshold (levels)
    t_texture: float  # local standard deviation threshold (levels)
    texture: np.ndarray  # float32, local standard deviation of the grey difference (levels)


# The tight model applies when the border's typical deviation from the model is below this (RGB levels).
TIGHT_MAX_NOISE = 2.5


def _local_std(grey: np.ndarray, r: int) -> np.ndarray:
    mean = box_filter(grey, r)
    return np.sqrt(np.maximum(box_filter(grey * grey, r) - mean * mean, 0))


def tight_evidence(rgb: np.ndarray, bg: BackgroundModel) -> TightEvidence | None:
    h, w = rgb.shape[:2]
    # Per-channel planes: numpy's reductions over a length-3 last axis are several times slower.
    c0, c1, c2 = (rgb[..., i].astype(np.float32) - bg.rgb[..., i] for i in range(3))
    hi, lo = np.maximum(np.maximum(c0, c1), c2), np.minimum(np.minimum(c0, c1), c2)
    d = np.maximum(hi, -lo)
    ring = border_ring(h, w)
    noise = float(np.percentile(d[ring], 75))  # robust: a product touching the border is a minority of it
    if noise > TIGHT_MAX_NOISE:
        return None
    grey = (c0 + c1 + c2) * np.float32(1 / 3)
    texture = _local_std(grey, 2)
    t_texture = float(np.percentile(texture[ring], 75)) + 0.5
    t_level = noise + 1.5
    # Brighter than the background, off its hue, or textured. Darker-only smooth pixels are
    # not evidence: they may be the photo's own shadow (the hole logic fills them when enclosed).
    # Hue and texture are not trusted near strongly contrasting pixels: JPEG bleeds chroma
    # (4:2:0, 16 px blocks) and rings around a dark or saturated edge, a halo of a level or two.
    chroma = hi - lo
    strong = (d <= 40).astype(np.uint8)
    near_strong = cv2.distanceTransform(strong, cv2.DIST_L2, 3) < 16 * max(h, w) / 1000
    # A hue shift counts only where the pixels are not perfectly flat: retouching leaves flat tinted
    # patches a level or two off the backdrop, fabric always varies a little.
    hue_shift = (chroma > t_level) & (texture > 0.1)
    evidence = (grey > t_level) | ((hue_shift | (texture > t_texture)) & ~near_strong)
    r = max(4, round(max(h, w) / 1000 * 5))
    frac = box_filter(evidence.astype(np.float32), r)
    # Background-like: at the background's level and as smooth as it. Measured from the border's
    # upper quartile plus a margin, not a high percentile: a product or a light strip along the
    # border is a minority of it, but can be more than 5 % (then "p95" called a grey shoulder backdrop).
    bg_like = (d <= noise + 0.5) & (texture <= t_texture)
    return TightEvidence(frac=frac, bg_like=bg_like, t_level=t_level, t_texture=t_texture, texture=texture)


@dataclass
class PlainAnalysis:
    core: np.ndarray  # bool, the product (holes decided, shadow removed)
    raw: np.ndarray  # float32, soft alpha from the colour distance (and the tight evidence where it applies)
    shadow: np.ndarray  # bool, the original photo's shadow
    open_holes: np.ndarray  # bool, interior holes left open because they show the background
    bg_like: np.ndarray | None  # bool, pixels certainly background (tight model only)
    info: dict


def certain_background(bg_like: np.ndarray, scale: float) -> np.ndarray:
    """Most of a small neighbourhood matches the backdrop's exact level and smoothness."""
    r = max(1, round(2 * scale))
    return box_filter(bg_like.astype(np.float32), r) > 0.6


def plain_analysis(lab: np.ndarray, bg: BackgroundModel, rgb: np.ndarray) -> PlainAnalysis:
    h, w = lab.shape[:2]
    scale = max(h, w) / 1000
    # Colour distance to the background model; lightness counts a little less
    # than chroma, since the photo's own lighting varies it more.
    diff = lab - bg.lab
    dist = np.sqrt(0.7 * diff[..., 0] ** 2 + diff[..., 1] ** 2 + diff[..., 2] ** 2)
    del diff
    t_lo = max(3.0 * bg.sigma, 3.0)
    t_hi = max(2.0 * t_lo, 6.0)
    raw = np.clip((dist - t_lo) / (t_hi - t_lo), 0, 1).astype(np.float32)

    core = raw > 0.5
    core = cv2.morphologyEx(core.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    # Close hairline gaps along low-contrast parts of the outline before judging holes.
    k = max(3, round(3 * scale)) | 1
    core = cv2.morphologyEx(core.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((k, k), np.uint8)).astype(bool)
    min_abs = round(60 * scale * scale)
    core = keep_main_components(core & ~border_strips(core), min_rel=0.03, min_abs=min_abs)
    strong_area = float(core.sum())
    strong_core = core

    # White on near-white: regions the Lab threshold missed but the tight level/texture model sees.
    # An opening keeps only thick regions, so the thin JPEG ringing halo around a dark product
    # (a few pixels of disturbed background) is not taken for product.
    tight = tight_evidence(rgb, bg)
    weak_added = 0.0
    if tight is not None:
        weak = (tight.frac > 0.4) & ~core
        weak &= ~border_strips(weak)
        r = max(3, round(4 * scale))
        kr = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        weak = cv2.morphologyEx(weak.astype(np.uint8), cv2.MORPH_OPEN, kr).astype(bool)
        core = keep_main_components(core | weak, min_rel=0.03, min_abs=min_abs)
        weak_added = float((core & weak).sum())
        # Light stripes between dark ones (a Breton top) sit within JPEG's halo of the dark
        # stripes and match the backdrop's level: fill short gaps bounded by product above and
        # below, except certain background. Only vertically: the narrow gaps that must stay open
        # (between a sleeve and the body, between two legs) run vertically and a horizontal
        # closing bridged them wherever JPEG ringing made them look uncertain.
        k = max(5, round(31 * scale)) | 1
        bridged = cv2.morphologyEx(core.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((k, 1), np.uint8))
        bridged = bridged.astype(bool) & ~core & ~certain_background(tight.bg_like, scale)
        core |= bridged
        weak_added += float(bridged.sum())
        # The weak evidence is noisy at a low-contrast outline: a median filter smooths its
        # notches there (near weakly separated product only: elsewhere it would fill the narrow
        # gap between two strap halves); the strongly separated product is kept exactly as it was.
        k = max(5, round(11 * scale)) | 1
        smoothed = cv2.medianBlur(core.astype(np.uint8), k).astype(bool)
        near_weak = cv2.dilate((core & ~strong_core).astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
        smoothed &= near_weak | core
        core = strong_core | (smoothed & ~certain_background(tight.bg_like, scale))
        # No usable colour ramp at such an outline: the edge refinement gets the mask itself, anti-aliased.
        np.maximum(raw, cv2.GaussianBlur(core.astype(np.float32), (0, 0), 1.0 * scale), out=raw)

    # Original shadow out, before the holes, so a shadow cannot enclose a hole.
    shadow, n_shadows = shadow_mask(lab, bg, core, edge_px=max(4, round(5 * scale)), rgb=rgb, tight=tight)
    if n_shadows:
        core &= ~shadow
        core = keep_main_components(core, min_rel=0.03, min_abs=min_abs)

    # Interior holes: open when they show the background (a handle, the
    # space under a strap), filled when they are product pixels that merely
    # came out light (a white print, a highlight). With the tight model a hole
    # must also match the background's exact level and smoothness: shaded white
    # fabric sits a level or two off it and has texture.
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~core).astype(np.uint8), connectivity=4)
    border_ids = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())
    open_holes = np.zeros_like(core)
    n_open = 0
    min_open = max(40, round(0.00015 * h * w))
    product_area = float(core.sum())
    rim = np.ones((2 * max(1, round(3 * scale)) + 1,) * 2, np.uint8)
    for i in range(1, n):
        if i in border_ids:
            continue
        x, y, cw, ch, area = stats[i]
        region = labels[y : y + ch, x : x + cw] == i
        d = dist[y : y + ch, x : x + cw][region]
        is_open = area >= min_open and np.median(d) < t_lo and np.mean(d < t_hi) > 0.9
        if is_open and tight is not None:
            # Its inside (away from the ringing at its rim) must be the backdrop almost everywhere:
            # JPEG flattens patches of smooth white fabric to the backdrop's level, but not all of it.
            inside = cv2.erode(region.astype(np.uint8), rim).astype(bool)
            # Such patches are small and lie in light fabric: an opening is either a sizeable part
            # of the product (a handle) or rimmed by clearly contrasting product (the gap under a strap).
            m = rim.shape[0]
            py0, py1, px0, px1 = max(0, y - m), min(h, y + ch + m), max(0, x - m), min(w, x + cw + m)
            padded = labels[py0:py1, px0:px1] == i
            ring = cv2.dilate(padded.astype(np.uint8), rim).astype(bool) & ~padded
            rimmed = bool(ring.any()) and float(strong_core[py0:py1, px0:px1][ring].mean()) > 0.6
            # ... and at the backdrop's lightness: a shaded patch of white fabric inside a print is darker.
            level = rgb[y : y + ch, x : x + cw][region].astype(np.float32) - bg.rgb[y : y + ch, x : x + cw][region]
            rimmed = rimmed and abs(float(np.median(level.mean(axis=-1)))) < 0.6
            # (JPEG's chroma bleed makes a narrow gap between saturated parts fail the exact-level
            # test, so a rimmed opening needs only the colour-distance test above.)
            is_open = rimmed or (
                area >= 0.003 * product_area
                and inside.any()
                and float(tight.bg_like[y : y + ch, x : x + cw][inside].mean()) > 0.9
            )
        if is_open:
            open_holes[y : y + ch, x : x + cw] |= region
            n_open += 1
        else:
            core[y : y + ch, x : x + cw] |= region
    area = float(core.sum())
    info = {
        "light_outline": round(light_outline(core, rgb, bg), 3),
        "t_lo": round(t_lo, 2),
        "t_hi": round(t_hi, 2),
        "tight_model": tight is not None,
        "weak_share": round(weak_added / max(area, 1.0), 3),
        "strong_share": round(strong_area / max(area, 1.0), 3),
        "open_holes": n_open,
        "shadows_removed": n_shadows,
    }
    if tight is not None:
        info["t_level"] = round(tight.t_level, 2)
        info["t_texture"] = round(tight.t_texture, 2)
    return PlainAnalysis(
        core=core,
        raw=raw,
        shadow=shadow,
        open_holes=open_holes,
        bg_like=None if tight is None else tight.bg_like,
        info=info,
    )


def light_outline(core: np.ndarray, rgb: np.ndarray, bg: BackgroundModel) -> float:
    """Share of the mask's outline within a few levels of the backdrop: white on white.

    There the colour distance cannot place the edge (a white garment is often retouched to the
    backdrop's very level near its outline), so the outline is a guess.
    """
    u8 = core.astype(np.uint8)
    k = max(3, round(3 * max(core.shape) / 1000)) * 2 + 1
    outline = core & ~cv2.erode(u8, np.ones((k, k), np.uint8)).astype(bool)
    if not outline.any():
        return 0.0
    ys, xs = np.nonzero(outline)
    d = np.abs(rgb[ys, xs].astype(np.float32) - bg.rgb[ys, xs]).max(axis=1)
    return float((d < LIGHT_LEVELS).mean())


# A backdrop this much lighter (Lab L) in its middle third than at its border is vignetted.
VIGNETTE_LIFT = 3.0
# An outline pixel this close to the backdrop (RGB levels, any channel) is light on light ...
LIGHT_LEVELS = 16
# ... and more than this share of such pixels makes the outline uncertain.
LIGHT_OUTLINE = 0.45


def uncertainty(core: np.ndarray, info: dict) -> list[str]:
    """Why the plain estimate might be wrong (empty: trust it, no network needed).

    * low contrast: most of the product was only weakly separated from a backdrop
      that is not flat to the level. On a level-flat backdrop the tight
      level/texture model is the better judge of white on white: on the dev
      photos the network added nothing there (0-0.4 % of its mask) and cost
      ~0.5 s and ~330 MB of peak memory per photo;
    * light outline: most of the mask's outline is within a few levels of the
      backdrop (white on white). Retouching often brings a white garment to the
      backdrop's very level near its edge, where neither the colour distance
      nor the tight model can place it: bites out of the sides, a ragged fringe
      of weak evidence. The network places that outline (``_u2net_assist``);
    * fragmented: the product fell apart into several sizeable pieces;
    * hollow: the mask covers much less than its convex hull (stripes lost, a
      body missing between a print and a collar);
    * vignette: the backdrop is lit brighter in the middle than at the border
      (``bg_centre_lift``, Lab L): the colour model, fitted at the border,
      predicts a near-white backdrop just where a white garment lies, and the
      plain body of a white T-shirt below its print was lost.
    """
    reasons = []
    if info.get("bg_centre_lift", 0.0) > VIGNETTE_LIFT and not info.get("tight_model"):
        reasons.append("vignette")
    if info.get("strong_share", 1.0) < 0.5 and not info.get("tight_model"):
        reasons.append("low_contrast")
    if info.get("light_outline", 0.0) > LIGHT_OUTLINE:
        reasons.append("light_outline")
    n, _, stats, _ = cv2.connectedComponentsWithStats(core.astype(np.uint8), connectivity=8)
    areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1]
    if areas.size > 1 and areas[1:].sum() > 0.15 * areas.sum():
        reasons.append("fragmented")
    contours, _ = cv2.findContours(core.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if contours:
        hull = cv2.contourArea(cv2.convexHull(np.concatenate(contours)))
        solidity = float(core.sum()) / max(hull, 1.0)
        info["solidity"] = round(solidity, 3)
        if solidity < 0.45:
            reasons.append("hollow")
    return reasons
