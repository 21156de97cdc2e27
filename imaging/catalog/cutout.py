"""Product cutout: a clean alpha matte for one product photo.

Two methods, chosen per image:

* ``plain`` — studio / plain backgrounds (white sweep, grey card, a smooth
  gradient). The background is modelled from the image borders as a smooth
  quadratic colour surface in Lab, every pixel's colour distance to that model
  gives a soft alpha, and the matte is cleaned up (specks, interior holes,
  the original photo's soft shadow) and refined at the edge. Precise where it
  applies: the edge follows the real colour transition, and holes that show the
  background (mug handles, bag straps, strap tops) stay open.
* ``u2net`` — busy backgrounds, where no colour model of the border holds:
  the small U2-Net salient-object network (``models/u2netp.onnx``), its
  320x320 output upsampled and refined with a guided filter on the photo.

Colours at the edge are decontaminated (the background's share removed) so a
product cut from a grey card does not carry a grey fringe onto a dark backdrop.

Plain Python: numpy + OpenCV + onnxruntime, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from imaging.errors import PipelineError
from imaging.models import model

METHODS = ("auto", "plain", "u2net")

# A border whose colour model leaves a robust residual below this (Lab units)
# with most border pixels explained is a plain background.
PLAIN_MAX_SIGMA = 5.0
PLAIN_MIN_INLIERS = 0.6
# Plausible product area as a fraction of the photo.
MIN_AREA_FRACTION = 0.002
MAX_AREA_FRACTION = 0.97


@dataclass
class Cutout:
    rgb: np.ndarray  # HxWx3 uint8, colours decontaminated at the edge where possible
    alpha: np.ndarray  # HxW float32 in [0, 1]
    method: str  # "plain" (background estimation) or "u2net"
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) of alpha > 0.5
    info: dict = field(default_factory=dict)  # measurements for the debug output


@dataclass
class BackgroundModel:
    lab: np.ndarray  # HxWx3 float32, the modelled background colour in Lab at every pixel
    rgb: np.ndarray  # HxWx3 float32 0-255, the same in RGB (for decontamination)
    sigma: float  # robust residual of the border pixels around the model (Lab units)
    inliers: float  # fraction of border pixels the model explains

    @property
    def is_plain(self) -> bool:
        return self.sigma <= PLAIN_MAX_SIGMA and self.inliers >= PLAIN_MIN_INLIERS


# --------------------------------------------------------------------------- helpers


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 or float 0-255 RGB -> float32 Lab (L 0-100, a/b about -128..127)."""
    return cv2.cvtColor(rgb.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2Lab)


def box(img: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(img, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a grey guide (both float32 in [0, 1]).

    Makes ``src`` (a matte) follow the edges of ``guide`` (the photo) in O(N)
    with box filters; good enough to snap an upsampled or hard-cleaned matte to
    the real edge.
    """
    mean_i = box(guide, r)
    mean_p = box(src, r)
    cov_ip = box(guide * src, r) - mean_i * mean_p
    var_i = box(guide * guide, r) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a, r) * guide + box(b, r)


def keep_main_components(mask: np.ndarray, min_rel: float = 0.05, min_abs: int = 50) -> np.ndarray:
    """Keep the largest component and those at least ``min_rel`` of its area (a pair of shoes, a set)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(mask, dtype=bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep_ids = np.flatnonzero(areas >= max(min_abs, min_rel * areas.max())) + 1
    lut = np.zeros(n, dtype=bool)
    lut[keep_ids] = True
    return lut[labels]


def bbox_of(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(alpha > 0.5)
    if xs.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


# --------------------------------------------------------------------------- background model


def _poly_features(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def estimate_background(rgb: np.ndarray, lab: np.ndarray | None = None) -> BackgroundModel:
    """Fit a smooth (quadratic) Lab colour surface to the image borders, robustly.

    A product touching the border (cropped trouser legs) is excluded as
    outliers; what remains tells how plain the background is.
    """
    h, w = rgb.shape[:2]
    lab = to_lab(rgb) if lab is None else lab
    b = max(3, round(0.025 * min(h, w)))
    ring = np.zeros((h, w), dtype=bool)
    ring[:b] = ring[-b:] = True
    ring[:, :b] = ring[:, -b:] = True
    ys, xs = np.nonzero(ring)
    step = max(1, ys.size // 6000)
    ys, xs = ys[::step], xs[::step]
    samples = lab[ys, xs].astype(np.float64)
    xn = xs / max(1, w - 1) * 2 - 1
    yn = ys / max(1, h - 1) * 2 - 1
    feats = _poly_features(xn, yn)

    # Start from the pixels near the border's median colour, then alternate fit / reselect.
    resid = np.linalg.norm(samples - np.median(samples, axis=0), axis=1)
    inl = resid <= max(6.0, np.percentile(resid, 50))
    coef = np.zeros((6, 3))
    sigma = 0.0
    for _ in range(4):
        if inl.sum() < 12:
            break
        coef, *_ = np.linalg.lstsq(feats[inl], samples[inl], rcond=None)
        resid = np.linalg.norm(samples - feats @ coef, axis=1)
        sigma = float(1.4826 * np.median(resid[inl])) + 0.3  # MAD; floor for clipped (pure-white) borders
        inl = resid <= max(3.0 * sigma, 2.5)
    inliers = float(inl.mean())

    # Evaluate the smooth surface on a coarse grid and upsample: exact enough, and cheap.
    gh, gw = max(2, min(h, 64)), max(2, min(w, 64))
    gy, gx = np.meshgrid(np.linspace(-1, 1, gh), np.linspace(-1, 1, gw), indexing="ij")
    grid = (_poly_features(gx, gy) @ coef).astype(np.float32)
    bg_lab = cv2.resize(grid, (w, h), interpolation=cv2.INTER_LINEAR)
    bg_rgb = np.clip(cv2.cvtColor(bg_lab, cv2.COLOR_Lab2RGB) * 255, 0, 255)
    return BackgroundModel(lab=bg_lab, rgb=bg_rgb, sigma=sigma, inliers=inliers)


# --------------------------------------------------------------------------- plain method


def _shadow_mask(
    lab: np.ndarray,
    bg: BackgroundModel,
    fg: np.ndarray,
    edge_px: int,
    rgb: np.ndarray | None = None,
    tight: TightEvidence | None = None,
) -> tuple[np.ndarray, int]:
    """The original photo's soft shadow: grey, darker than the background, soft-edged, under the product.

    Candidates are pixels whose chroma matches the background but which are
    darker (a shadow only takes light away). A candidate region counts as
    shadow when it sits in the lower part of the product and its boundary with
    the background is soft (a penumbra several pixels wide), where a grey
    product part would have a sharp edge. With the tight model (a backdrop
    flat to the level, where this can be told; ``rgb`` then required) a shadow
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
        if y + ch / 2 < y0 + 0.6 * (y1 - y0):  # shadows of the original photo lie under the product
            continue
        comp = labels[y : y + ch, x : x + cw] == i
        edge = comp & background[y : y + ch, x : x + cw]
        if edge.sum() < 10:
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
            lum = lab[y : y + ch, x : x + cw, 0] * np.float32(2.55)
            fine = np.sqrt(box((lum - box(lum, 2)) ** 2, 2))
            if float(np.median(fine[comp])) > tight.t_texture - 0.2:
                continue
        contrast = float(np.median(dl[y : y + ch, x : x + cw][comp]))
        slope = float(np.median(grad[y : y + ch, x : x + cw][edge])) + 1e-3
        # Penumbra width = contrast / slope: a soft shadow fades over many pixels.
        if contrast / slope >= edge_px:
            shadow[y : y + ch, x : x + cw] |= comp
            found += 1
    return shadow, found


def _border_strips(mask: np.ndarray) -> np.ndarray:
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
    mean = box(grey, r)
    return np.sqrt(np.maximum(box(grey * grey, r) - mean * mean, 0))


def _tight_evidence(rgb: np.ndarray, bg: BackgroundModel) -> TightEvidence | None:
    h, w = rgb.shape[:2]
    # Per-channel planes: numpy's reductions over a length-3 last axis are several times slower.
    c0, c1, c2 = (rgb[..., i].astype(np.float32) - bg.rgb[..., i] for i in range(3))
    hi, lo = np.maximum(np.maximum(c0, c1), c2), np.minimum(np.minimum(c0, c1), c2)
    d = np.maximum(hi, -lo)
    b = max(3, round(0.025 * min(h, w)))
    ring = np.zeros((h, w), dtype=bool)
    ring[:b] = ring[-b:] = True
    ring[:, :b] = ring[:, -b:] = True
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
    frac = box(evidence.astype(np.float32), r)
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


def _certain_background(bg_like: np.ndarray, scale: float) -> np.ndarray:
    """Most of a small neighbourhood matches the backdrop's exact level and smoothness."""
    r = max(1, round(2 * scale))
    return box(bg_like.astype(np.float32), r) > 0.6


def _plain_analysis(lab: np.ndarray, bg: BackgroundModel, rgb: np.ndarray) -> PlainAnalysis:
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
    core = keep_main_components(core & ~_border_strips(core), min_rel=0.03, min_abs=min_abs)
    strong_area = float(core.sum())
    strong_core = core

    # White on near-white: regions the Lab threshold missed but the tight level/texture model sees.
    # An opening keeps only thick regions, so the thin JPEG ringing halo around a dark product
    # (a few pixels of disturbed background) is not taken for product.
    tight = _tight_evidence(rgb, bg)
    weak_added = 0.0
    if tight is not None:
        weak = (tight.frac > 0.4) & ~core
        weak &= ~_border_strips(weak)
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
        bridged = bridged.astype(bool) & ~core & ~_certain_background(tight.bg_like, scale)
        core |= bridged
        weak_added += float(bridged.sum())
        # The weak evidence is noisy at a low-contrast outline: a median filter smooths its
        # notches there (near weakly separated product only: elsewhere it would fill the narrow
        # gap between two strap halves); the strongly separated product is kept exactly as it was.
        k = max(5, round(11 * scale)) | 1
        smoothed = cv2.medianBlur(core.astype(np.uint8), k).astype(bool)
        near_weak = cv2.dilate((core & ~strong_core).astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
        smoothed &= near_weak | core
        core = strong_core | (smoothed & ~_certain_background(tight.bg_like, scale))
        # No usable colour ramp at such an outline: the edge refinement gets the mask itself, anti-aliased.
        np.maximum(raw, cv2.GaussianBlur(core.astype(np.float32), (0, 0), 1.0 * scale), out=raw)

    # Original shadow out, before the holes, so a shadow cannot enclose a hole.
    shadow, n_shadows = _shadow_mask(lab, bg, core, edge_px=max(4, round(5 * scale)), rgb=rgb, tight=tight)
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


def _uncertainty(core: np.ndarray, info: dict) -> list[str]:
    """Why the plain estimate might be wrong (empty: trust it, no network needed).

    * low contrast: most of the product was only weakly separated from a backdrop
      that is not flat to the level. On a level-flat backdrop the tight
      level/texture model is the better judge of white on white: on the dev
      photos the network added nothing there (0-0.4 % of its mask) and cost
      ~0.5 s and ~330 MB of peak memory per photo;
    * fragmented: the product fell apart into several sizeable pieces;
    * hollow: the mask covers much less than its convex hull (stripes lost, a
      body missing between a print and a collar).
    """
    reasons = []
    if info.get("strong_share", 1.0) < 0.5 and not info.get("tight_model"):
        reasons.append("low_contrast")
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


def _fill_small_holes(core: np.ndarray, max_area: int) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~core).astype(np.uint8), connectivity=4)
    border_ids = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    small = stats[:, cv2.CC_STAT_AREA] < max_area
    small[0] = False
    small[border_ids] = False
    return core | small[labels] if small.any() else core


def _holes_confirmed(holes: np.ndarray, u2_soft: np.ndarray) -> np.ndarray:
    """The open holes the network also sees as background (mean matte below one half)."""
    n, labels = cv2.connectedComponents(holes.astype(np.uint8), connectivity=4)
    if n <= 1:
        return holes
    sums = np.bincount(labels.ravel(), weights=u2_soft.ravel(), minlength=n)
    counts = np.bincount(labels.ravel(), minlength=n)
    keep = sums / np.maximum(counts, 1) < 0.5
    keep[0] = False
    return keep[labels]


def _edge_alpha(
    rgb: np.ndarray,
    core: np.ndarray,
    soft: np.ndarray,
    band: int,
    bg_rgb: np.ndarray | None = None,
    keep_soft: bool = False,
) -> np.ndarray:
    """1 inside ``core``, 0 outside, a real matte in a thin band at its edge.

    In the band, with the background colour B known (plain) and the product's
    colour F taken from the nearest solid product pixels, a pixel I = aF + (1-a)B
    gives a = (I-B).(F-B) / |F-B|^2: the true mixing ratio, where a thresholded
    colour distance would call a 30 % product pixel solid and leave a light
    fringe. Where F and B are too alike to tell, ``soft`` is kept; with
    ``keep_soft`` also unrefined there (it is already an anti-aliased mask edge,
    and on a flat guide the guided filter degenerates to a box blur: a wide
    light rim around a white garment).
    """
    kb = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    inner = cv2.erode(core.astype(np.uint8), kb).astype(bool)
    outer = cv2.dilate(core.astype(np.uint8), kb).astype(bool)
    edge = outer & ~inner
    soft = soft.copy()
    unmixable = edge.copy()
    if bg_rgb is not None and edge.any():
        ys, xs = np.nonzero(edge)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        img = rgb[y0:y1, x0:x1].astype(np.float32)
        wf = inner[y0:y1, x0:x1].astype(np.float32)
        sigma = 1.5 * band
        f = cv2.GaussianBlur(img * wf[..., None], (0, 0), sigma) / (
            cv2.GaussianBlur(wf, (0, 0), sigma)[..., None] + 1e-4
        )
        b = bg_rgb[y0:y1, x0:x1]
        fb = f - b
        ib = img - b
        # Per-channel sums (a reduction over the length-3 axis is slow in numpy).
        den = fb[..., 0] ** 2 + fb[..., 1] ** 2 + fb[..., 2] ** 2
        dot = ib[..., 0] * fb[..., 0] + ib[..., 1] * fb[..., 1] + ib[..., 2] * fb[..., 2]
        matte = np.clip(dot / np.maximum(den, 1.0), 0, 1)
        # Trust it only where product and background colours are well apart (> ~25 levels).
        usable = edge[y0:y1, x0:x1] & (den > 625)
        soft[y0:y1, x0:x1][usable] = matte[usable]
        unmixable[y0:y1, x0:x1] &= ~usable
    alpha = np.where(inner, 1.0, np.where(outer, soft, 0.0)).astype(np.float32)
    # Anti-alias: the guided filter removes JPEG stair-steps from the matte.
    guide = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    refined = guided_filter(guide, alpha, r=max(1, round(1.5 * band / 2)), eps=1e-4)
    out = np.where(edge, np.clip(refined, 0, 1), alpha).astype(np.float32)
    if keep_soft:
        out[unmixable] = alpha[unmixable]
        # Where light product and light backdrop meet dark product in one window, the filter's
        # linear model fails and spreads alpha onto the backdrop: let it smooth, not grow, the
        # matte (at most the matte's own value one pixel away).
        np.minimum(out, cv2.dilate(alpha, np.ones((3, 3), np.uint8)), out=out)
    return out


# --------------------------------------------------------------------------- U2-Net method


def _u2net_prob(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """U2-Net-p saliency at the network's input size; returns (prob HxW, raw max)."""
    spec = model("u2netp.onnx")
    height, width = spec.input.size
    small = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    out = spec.run(small)["saliency"][0, 0].astype(np.float32)
    raw_max = float(out.max())
    lo, hi = float(out.min()), float(out.max())
    prob = (out - lo) / max(hi - lo, 1e-6)
    h, w = rgb.shape[:2]
    return np.clip(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1), raw_max


def _u2net_soft(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The network's matte, snapped to the photo's edges with a guided filter (it is only 320 px)."""
    h, w = rgb.shape[:2]
    prob, raw_max = _u2net_prob(rgb)
    guide = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    r = max(2, round(max(h, w) / 320 * 2))  # about two model pixels
    refined = np.clip(guided_filter(guide, prob.astype(np.float32), r=r, eps=1e-3), 0, 1)
    return np.clip((refined - 0.3) / 0.4, 0, 1).astype(np.float32), raw_max


def _u2net_alpha(rgb: np.ndarray) -> tuple[np.ndarray, dict]:
    h, w = rgb.shape[:2]
    soft, raw_max = _u2net_soft(rgb)
    if raw_max < 0.2:
        raise PipelineError("NO_PRODUCT", "No product stands out from the background of this photo.")
    core = keep_main_components(soft > 0.5, min_rel=0.05)
    # Fill small holes only (the network does not see through handles reliably either way).
    core = _fill_small_holes(core, round(0.001 * h * w))
    band = max(2, round(3 * max(h, w) / 1000))
    near = cv2.dilate(core.astype(np.uint8), np.ones((2 * band + 1,) * 2, np.uint8)).astype(bool)
    alpha = np.where(core, np.maximum(soft, 0.5), np.where(near, soft, 0)).astype(np.float32)
    return alpha, {"u2net_raw_max": round(raw_max, 3)}


# --------------------------------------------------------------------------- colours at the edge


def decontaminate(rgb: np.ndarray, alpha: np.ndarray, bg_rgb: np.ndarray | None) -> np.ndarray:
    """Foreground colours at partly transparent pixels, the background's share removed.

    Solves I = a F + (1 - a) B for F with B from the background model where
    there is one (plain) or smeared from nearby background pixels (u2net); at
    low alpha, where that is ill-conditioned, F leans on the nearest solid
    product colour instead. Works on the edge's bounding box and solves only at
    the edge pixels: full-size float temporaries were most of the cutout's peak memory.
    """
    edge = (alpha > 0.01) & (alpha < 0.99)
    if not edge.any():
        return rgb
    h, w = alpha.shape
    sigma = max(2.0, max(h, w) / 400)
    ys, xs = np.nonzero(edge)
    m = int(np.ceil(3 * (4 * sigma if bg_rgb is None else sigma)))  # the blurs' reach
    y0, y1, x0, x1 = max(0, ys.min() - m), min(h, ys.max() + 1 + m), max(0, xs.min() - m), min(w, xs.max() + 1 + m)
    img = rgb[y0:y1, x0:x1].astype(np.float32)
    a_box = alpha[y0:y1, x0:x1]
    ey, ex = ys - y0, xs - x0

    def smeared(weight: np.ndarray, s: float) -> np.ndarray:
        """Weighted blur of the photo at the edge pixels: colours of nearby pixels of one kind."""
        num = cv2.GaussianBlur(img * weight[..., None], (0, 0), s)[ey, ex]
        return num / (cv2.GaussianBlur(weight, (0, 0), s)[ey, ex][:, None] + 1e-4)

    b = smeared((a_box < 0.05).astype(np.float32), 4 * sigma) if bg_rgb is None else bg_rgb[ys, xs]
    near = smeared((a_box > 0.95).astype(np.float32), sigma)
    i = img[ey, ex]
    a = alpha[ys, xs][:, None]
    solved = np.clip((i - (1 - a) * b) / np.maximum(a, 0.05), 0, 255)
    trust = np.clip((a - 0.15) / 0.5, 0, 1)
    out = rgb.copy()
    out[ys, xs] = np.clip(trust * solved + (1 - trust) * near + 0.5, 0, 255).astype(np.uint8)
    return out


def _u2net_assist(rgb: np.ndarray, plain: PlainAnalysis, info: dict) -> tuple[np.ndarray, np.ndarray]:
    """Add what the network sees as product and the colour model missed (white on white).

    Never the shadow just removed, a hole that the colour model found open and
    the network confirms, nor pixels the tight model calls certain background
    (the gap between a sleeve and the body on a flat backdrop).
    """
    h, w = rgb.shape[:2]
    core, soft = plain.core, plain.raw
    u2_soft, raw_max = _u2net_soft(rgb)
    u2_core = keep_main_components(u2_soft > 0.5, min_rel=0.05)
    if plain.bg_like is not None:
        # Certain background: a whole neighbourhood that matches the backdrop's level and smoothness.
        u2_core &= ~_certain_background(plain.bg_like, max(h, w) / 1000)
    missed = float((u2_core & ~core).sum()) / max(1.0, float(u2_core.sum()))
    info["u2net_missed"] = round(missed, 3)
    if raw_max >= 0.2 and missed > 0.05:
        still_open = _holes_confirmed(plain.open_holes, u2_soft)
        core = (core | u2_core) & ~plain.shadow & ~still_open
        core = _fill_small_holes(keep_main_components(core, min_rel=0.03), round(0.0005 * h * w))
        soft = np.maximum(soft, np.where(u2_core, u2_soft, 0))
        info["u2net_assist"] = True
    return core, soft


# --------------------------------------------------------------------------- entry point


def cut_out(rgb: np.ndarray, *, method: str = "auto") -> Cutout:
    """Separate the product from its background.

    ``method``: "auto" picks "plain" when the border fits a smooth colour
    model, else "u2net"; on a plain background it asks the network for a
    second opinion only when the plain estimate is uncertain (low contrast,
    fragmented, hollow: ``info["u2net_reasons"]``) and adds what the colour
    model missed, which ``info["u2net_assist"]`` reports. "plain" and "u2net"
    force one method. Raises ``PipelineError("NO_PRODUCT", ...)`` when nothing
    can be separated.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("cut_out expects an HxWx3 uint8 RGB array")
    h, w = rgb.shape[:2]
    if min(h, w) < 16:
        raise PipelineError("NO_PRODUCT", "The photo is too small to find a product in.")
    thumb = cv2.resize(rgb, (min(w, 256), min(h, 256)), interpolation=cv2.INTER_AREA)
    if float(thumb.reshape(-1, 3).std(axis=0).max()) < 2.0:
        raise PipelineError("NO_PRODUCT", "The photo is a single flat colour: there is no product to cut out.")

    lab = to_lab(rgb)
    bg = estimate_background(rgb, lab)
    info: dict = {
        "bg_sigma": round(bg.sigma, 2),
        "bg_inliers": round(bg.inliers, 3),
        "bg_plain": bg.is_plain,
    }
    band = max(3, round(4 * max(h, w) / 1000))  # edges of product photos are often 3-5 px soft

    alpha = None
    chosen = "u2net"
    if method == "plain" or (method == "auto" and bg.is_plain):
        plain = _plain_analysis(lab, bg, rgb)
        del lab
        info.update(plain.info)
        core, soft = plain.core, plain.raw
        if method == "auto":
            # The network costs 0.15-0.5 s on a CPU: ask it only when the plain
            # estimate is uncertain, and say why in ``info``.
            reasons = _uncertainty(core, info)
            info["u2net_reasons"] = reasons
            if reasons:
                core, soft = _u2net_assist(rgb, plain, info)
        alpha = _edge_alpha(rgb, core, soft, band, bg.rgb, keep_soft=plain.bg_like is not None)
        if plain.bg_like is not None:
            # At the outline, a pixel with the backdrop's exact level and smoothness is backdrop,
            # whatever the (weak, window-based) evidence said: otherwise a light garment edge
            # carries a band of backdrop-coloured pixels, a light rim on a dark scene.
            kb = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
            rim = (cv2.dilate(core.astype(np.uint8), kb) > 0) & ~(cv2.erode(core.astype(np.uint8), kb) > 0)
            backdrop = box(plain.bg_like.astype(np.float32), 1)
            alpha[rim] *= 1 - backdrop[rim]
        if plain.shadow.any():
            alpha[plain.shadow & (alpha < 0.99)] = 0.0
        area = float((alpha > 0.5).mean())
        chosen = "plain"
        if not MIN_AREA_FRACTION <= area <= MAX_AREA_FRACTION:
            if method == "plain":
                raise PipelineError("NO_PRODUCT", "No product could be separated from the plain background.")
            alpha = None  # implausible: let the network alone try
    if alpha is None:
        alpha, extra = _u2net_alpha(rgb)
        info.update(extra)
        chosen = "u2net"
        area = float((alpha > 0.5).mean())
        if not MIN_AREA_FRACTION <= area <= MAX_AREA_FRACTION:
            raise PipelineError("NO_PRODUCT", "No product could be separated from the background of this photo.")

    box_ = bbox_of(alpha)
    if box_ is None:
        raise PipelineError("NO_PRODUCT", "No product could be separated from the background of this photo.")
    clean_rgb = decontaminate(rgb, alpha, bg.rgb if bg.is_plain else None)
    info["area_fraction"] = round(float((alpha > 0.5).mean()), 4)
    return Cutout(rgb=clean_rgb, alpha=alpha, method=chosen, bbox=box_, info=info)
