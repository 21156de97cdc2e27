"""Compose: put the warped garment into the photo.

Order of work, all on the person photo's pixel grid:
1. Layer order: the new garment goes over the body, but hair, face, hands (and, for
   the torso piece, the arms) stay in front of it.
2. The old garment where the new one does not cover it is replaced: by skin on the
   arms and on the body's core, by the surroundings (inpainting at low resolution)
   elsewhere.
3. The photo's shading and folds carry onto the new fabric: the high-pass of the old
   garment's luminance multiplies the new garment's colour.
4. Edges are feathered; every pixel outside the edited region stays byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .warp import Body, WarpResult


@dataclass
class Composite:
    image: np.ndarray  # HxWx3 uint8
    edited_mask: np.ndarray  # HxW bool: the only pixels that may differ from the input
    garment_alpha: np.ndarray  # HxW float32: the new garment as seen (after occlusion)
    revealed: np.ndarray  # HxW bool: old garment uncovered and filled
    shading: np.ndarray  # HxW float32: the multiplier applied to the new fabric
    skin: np.ndarray | None = None  # HxW bool: uncovered pixels painted as skin (a subset of ``revealed``)


def _region(regions: dict[str, np.ndarray], *names: str) -> np.ndarray:
    shape = next(iter(regions.values())).shape
    out = np.zeros(shape, bool)
    for n in names:
        if n in regions:
            out |= regions[n]
    return out


def _old_garment(regions: dict[str, np.ndarray], category: str) -> np.ndarray:
    """The old garment to replace, less stray specks the person analysis mislabelled inside the
    head (an earring, a hair clip): a piece much smaller than the garment's main body whose
    surroundings are mostly face, hair or neck is not the garment, and must stay as it is."""
    old = _region(regions, "lower_body") if category == "bottoms" else _region(regions, "upper_garment", "sleeves")
    head = _region(regions, "face_hair_neck")
    if not old.any() or not head.any():
        return old
    n, labels, stats, _ = cv2.connectedComponentsWithStats(old.astype(np.uint8), connectivity=8)
    if n <= 2:
        return old
    largest = int(stats[1:, cv2.CC_STAT_AREA].max())
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] >= 0.03 * largest:
            continue
        x, y, bw, bh = stats[i, :4]
        y0, y1, x0, x1 = max(0, y - 2), y + bh + 2, max(0, x - 2), x + bw + 2
        piece = labels[y0:y1, x0:x1] == i
        rim = cv2.dilate(piece.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~piece
        if head[y0:y1, x0:x1][rim].mean() > 0.5:
            old[y0:y1, x0:x1] &= ~piece
    return old


def _feather(mask: np.ndarray, sigma: float) -> np.ndarray:
    m = mask.astype(np.float32)
    if sigma <= 0:
        return m
    return cv2.GaussianBlur(m, (0, 0), sigma)


@dataclass
class SkinTone:
    """The person's visible skin, in float Lab (L 0..100)."""

    lab: np.ndarray  # (3,) robust centre (median after outlier rejection)
    grain: float  # std of the skin's fine luminance texture (pores, sensor noise), L units
    samples: int  # how many pixels it was measured on (0: a neutral default)


def _skin_like(rgb: np.ndarray) -> np.ndarray:
    """Broad skin chroma test (Chai & Ngan's CrCb box): rules out hair, greys and most garments."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    return (
        (ycrcb[..., 0] > 40)
        & (ycrcb[..., 1] >= 133)
        & (ycrcb[..., 1] <= 180)
        & (ycrcb[..., 2] >= 77)
        & (ycrcb[..., 2] <= 135)
    )


def sample_skin(rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body | None = None) -> SkinTone:
    """Measure the person's real skin: bare arms and midriff, the face around the nose, the hands.

    Each source is capped so that none dominates; the colour is the median of the pooled
    samples after dropping those more than 2.5 robust deviations from it in any Lab channel
    (lips, eye whites, shadows, a stray garment pixel).
    """
    h, w = rgb.shape[:2]
    sources = [_region(regions, "arm_skin", "torso_skin"), _region(regions, "hands")]
    face = _region(regions, "face_hair_neck")
    if body is not None and "nose" in body.kp:
        # Cheeks, nose, chin and neck front: a disc below the eyes (not the hair).
        yy, xx = np.ogrid[0:h, 0:w]
        nose = body.kp["nose"] + 0.08 * body.shoulder_width * body.d
        face = face & ((xx - nose[0]) ** 2 + (yy - nose[1]) ** 2 < (0.28 * body.shoulder_width) ** 2)
    sources.insert(1, face)
    rng = np.random.default_rng(0)
    picked = []
    grain_box = None
    for sel, cap in zip(sources, (4000, 3000, 1500), strict=True):
        box = _bbox(sel)
        if box is None:
            continue
        y0, y1, x0, x1 = box
        sub = sel[y0:y1, x0:x1] & _skin_like(rgb[y0:y1, x0:x1])
        sub = cv2.erode(sub.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)  # edges mix with the surroundings
        n = int(sub.sum())
        if n < 60:
            continue
        lab = cv2.cvtColor(rgb[y0:y1, x0:x1].astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
        px = lab[sub]
        picked.append(px[rng.choice(n, cap, replace=False)] if n > cap else px)
        if grain_box is None or n > grain_box[2].sum():
            grain_box = (lab[..., 0], None, sub)
    if not picked:
        return SkinTone(lab=np.array([68.0, 14.0, 18.0], np.float32), grain=1.2, samples=0)  # a neutral mid tone
    px = np.concatenate(picked)
    med = np.median(px, axis=0)
    mad = 1.4826 * np.median(np.abs(px - med), axis=0) + np.array([1.0, 0.5, 0.5])
    keep = (np.abs(px - med) <= 2.5 * mad).all(axis=1)
    if keep.sum() >= 30:
        med = np.median(px[keep], axis=0)
    lum, _, sub = grain_box
    fine = lum - cv2.GaussianBlur(lum, (0, 0), 1.5)
    grain = float(np.clip(1.4826 * np.median(np.abs(fine[sub])), 0.4, 3.0))
    return SkinTone(lab=med.astype(np.float32), grain=grain, samples=len(px))


def _body_core(body: Body) -> np.ndarray:
    """The trunk between the shoulder joints and the hips: bare skin if the garment leaves it uncovered."""
    kp = body.kp
    u, d = body.u, body.d
    sw = body.shoulder_width
    poly = np.array(
        [
            kp["r_shoulder"] + 0.05 * sw * d,
            kp["l_shoulder"] + 0.05 * sw * d,
            kp["l_hip"] + 0.15 * sw * u + 0.1 * sw * d,
            kp["r_hip"] - 0.15 * sw * u + 0.1 * sw * d,
        ]
    )
    core = np.zeros(body.shape, np.uint8)
    cv2.fillPoly(core, [np.round(poly).astype(np.int32)], 1)
    return core.astype(bool)


def compose(
    person_rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body, warp: WarpResult, category: str
) -> Composite:
    """Compose inside the box that holds the new garment and the old one (plus a margin for the
    blurs); everything outside it is the input, untouched."""
    h, w = person_rgb.shape[:2]
    g_rgb, g_alpha, pieces = warp.layers((h, w))
    old = _old_garment(regions, category)
    ys, xs = np.nonzero(old | (g_alpha > 0))
    if ys.size == 0:
        empty = np.zeros((h, w), bool)
        return Composite(
            person_rgb.copy(), empty, np.zeros((h, w), np.float32), empty, np.ones((h, w), np.float32), empty
        )
    tone = sample_skin(person_rgb, regions, body)  # on the whole photo: the face may lie outside the box
    pad = int(0.25 * body.shoulder_width) + 8
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    crop = (slice(y0, y1), slice(x0, x1))
    shift = np.array([x0, y0], np.float64)
    sub_body = Body(
        shape=(y1 - y0, x1 - x0),
        kp={k: v - shift for k, v in body.kp.items()},
        torso=body.torso[crop],
        arms=body.arms[crop],
    )
    sub = _compose_box(
        np.ascontiguousarray(person_rgb[crop]),
        {k: v[crop] for k, v in regions.items()},
        sub_body,
        g_rgb[crop],
        {k: v[crop] for k, v in pieces.items()},
        category,
        tone,
    )
    image = person_rgb.copy()
    image[crop] = sub.image
    edited = np.zeros((h, w), bool)
    edited[crop] = sub.edited_mask
    alpha = np.zeros((h, w), np.float32)
    alpha[crop] = sub.garment_alpha
    revealed = np.zeros((h, w), bool)
    revealed[crop] = sub.revealed
    shading = np.ones((h, w), np.float32)
    shading[crop] = sub.shading
    skin = np.zeros((h, w), bool)
    skin[crop] = sub.skin
    return Composite(
        image=image, edited_mask=edited, garment_alpha=alpha, revealed=revealed, shading=shading, skin=skin
    )


def _compose_box(
    person_rgb: np.ndarray,
    regions: dict[str, np.ndarray],
    body: Body,
    g_rgb: np.ndarray,
    pieces: dict[str, np.ndarray],
    category: str,
    tone: SkinTone,
) -> Composite:
    h, w = person_rgb.shape[:2]
    sw = body.shoulder_width
    feather = max(0.6, 0.004 * sw)

    head = _region(regions, "face_hair_neck")
    hands = _region(regions, "hands")
    arms = _region(regions, "arms", "arm_skin", "sleeves")
    if category == "bottoms":
        old = _old_garment(regions, category)
        front_all = _feather(head | hands | arms | _region(regions, "upper_garment"), feather)
        front_torso = front_all
        piece_names = ["bottoms"]
    else:
        old = _old_garment(regions, category)
        depth = _depth(body)
        # The head and neck stay in front down to the neck's base; below it the new garment
        # covers whatever the old neckline showed (a V-neck's chest, a collar).
        head = head & (depth < -0.16 * sw)
        front_all = _feather(head | hands, feather)
        # Arms hide the torso piece only below the armpits: above them, at the shoulder cap,
        # the garment covers the arm.
        below = depth > 0.22 * _torso_length(body)
        # Only the arm itself (its anatomical width), not a loose old sleeve's fringe: the fringe
        # is old garment, which the new torso covers where it reaches.
        front_torso = _feather(head | hands | (arms & below & (_arm_reach(body) < 1.1)), feather)
        piece_names = [n for n in pieces if n != "bottoms"]
        g_rgb, pieces = _fill_small_gaps(g_rgb, pieces, sw)

    # Visible garment alpha: the torso behind the arms, the sleeves over them; both behind hair and hands.
    alpha = np.zeros((h, w), np.float32)
    for name in piece_names:
        a = pieces[name]
        a = a * (1 - (front_torso if name in ("torso", "bottoms") else front_all))
        alpha = a + alpha * (1 - a)
    alpha = cv2.GaussianBlur(alpha, (0, 0), feather) if feather > 0 else alpha
    alpha = np.clip(alpha, 0, 1)

    # Old garment pixels the new one leaves uncovered.
    revealed = old & (alpha < 0.5)
    shading = _fabric_shading(person_rgb, old, sw, feather)
    shaded = np.clip(g_rgb * shading[..., None], 0, 255)
    base = person_rgb
    straps = np.zeros((h, w), bool)
    if category != "bottoms":
        straps = _old_straps(person_rgb, old, _region(regions, "face_hair_neck"), alpha, body)
        if straps.any():
            # Grown in from the skin around the strap (not from the new garment, blended on top later).
            mask = cv2.dilate(straps.astype(np.uint8), np.ones((3, 3), np.uint8))
            base = cv2.inpaint(person_rgb, mask | (alpha > 0.5).astype(np.uint8), 3, cv2.INPAINT_TELEA)
            base = np.where(mask[..., None] > 0, base, person_rgb)
            straps = mask.astype(bool)
    out = base.astype(np.float32) * (1 - alpha[..., None]) + shaded * alpha[..., None]
    out8 = np.clip(out + 0.5, 0, 255).astype(np.uint8)

    # Uncovered old garment becomes either skin (arms, midriff, chest) or, elsewhere (an old
    # loose sleeve's edge, the flanks beside a narrower top), the surroundings grown into it.
    if category != "bottoms":
        # An old dress continuing below the new top's hem stays as it is (not skin, not inpainted).
        revealed = revealed & ~_dress_below_hem(person_rgb, revealed, pieces, regions, body)
    zone = _skin_zone(revealed, pieces, regions, body, category)
    skin_alpha = np.zeros((h, w), np.float32)
    holes = revealed
    if zone.any():
        # Inside the skin, away from its edge, the skin covers everything: no need to inpaint there.
        holes = revealed & ~cv2.erode(zone.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    if holes.any():
        out8 = _inpaint(out8, holes)
    if zone.any():
        skin_rgb, skin_alpha = _skin_layer(person_rgb, zone, old, tone, body, feather)
        a = (skin_alpha * (1 - alpha))[..., None]
        out8 = np.clip(out8 * (1 - a) + skin_rgb * a + 0.5, 0, 255).astype(np.uint8)
    edited = (
        (alpha > 1.0 / 512)
        | (skin_alpha > 1.0 / 512)
        | straps
        | cv2.dilate(revealed.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    )
    image = np.where(edited[..., None], out8, person_rgb)
    return Composite(
        image=image, edited_mask=edited, garment_alpha=alpha, revealed=revealed, shading=shading, skin=zone
    )


def _old_straps(person_rgb: np.ndarray, old: np.ndarray, head: np.ndarray, alpha: np.ndarray, body: Body) -> np.ndarray:
    """Thin strands of the old garment left above the new one at the neck and shoulders (a cami's
    strap the person analysis counted as neck or shoulder skin): thin (gone after an opening wider
    than a strap), much closer to the old garment's colour than their surroundings are, and next to
    the old or the new garment. Hair is thick and stays; so does anything far from the garment."""
    sw = body.shoulder_width
    if not old.any() or not head.any():
        return np.zeros_like(old)
    depth = _depth(body)
    band = head & (depth > -0.3 * sw) & (alpha < 0.5)
    if not band.any():
        return np.zeros_like(old)
    k = max(5, int(0.04 * sw) | 1)
    lab = cv2.cvtColor(person_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    ref = np.median(lab[old], axis=0)
    # A strap is a pixel or two wide, so its edge pixels mix with the skin: compare each pixel with
    # its surroundings (a median wider than the strap) and keep those pulled well toward the old colour.
    local = cv2.cvtColor(cv2.medianBlur(person_rgb, 2 * k + 1).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    dist, local_dist = np.linalg.norm(lab - ref, axis=2), np.linalg.norm(local - ref, axis=2)
    cand = (band & (dist < 0.7 * local_dist) & (local_dist - dist > 8.0)).astype(np.uint8)
    thin = cand & ~cv2.morphologyEx(cand, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    if not thin.any():
        return np.zeros_like(old)
    # (Within a few pixels: right beside the garment the wide median is dark too, so the strap's
    # last pixels there are no candidates.)
    touch = cv2.dilate((old | (alpha >= 0.5)).astype(np.uint8), np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    n, labels = cv2.connectedComponents(thin, connectivity=8)
    keep = np.unique(labels[(touch > 0) & (thin > 0)])
    return np.isin(labels, keep[keep > 0])


def _fill_small_gaps(
    g_rgb: np.ndarray, pieces: dict[str, np.ndarray], sw: float
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Small holes enclosed by the new garment's pieces (where a sleeve meets the torso, the two
    warps can leave a sliver between them) would show the old garment or the background: fill
    them with the garment's colour grown in from around them, as part of the torso piece."""
    union = np.zeros(g_rgb.shape[:2], np.float32)
    for a in pieces.values():
        union = np.maximum(union, a)
    solid = union > 0.5
    box = _bbox(solid)
    if box is None:
        return g_rgb, pieces
    y0, y1, x0, x1 = box
    sub = solid[y0:y1, x0:x1]
    flood = np.zeros((y1 - y0 + 2, x1 - x0 + 2), np.uint8)
    flood[1:-1, 1:-1] = sub
    cv2.floodFill(flood, None, (0, 0), 2)
    holes = flood[1:-1, 1:-1] == 0
    if not holes.any():
        return g_rgb, pieces
    n, labels, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
    small = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] <= (0.15 * sw) ** 2) + 1
    holes = np.isin(labels, small)
    if not holes.any():
        return g_rgb, pieces
    fill = cv2.dilate(holes.astype(np.uint8), np.ones((3, 3), np.uint8))  # the soft rim too
    rgb8 = np.clip(g_rgb[y0:y1, x0:x1] + 0.5, 0, 255).astype(np.uint8)
    grown = cv2.inpaint(rgb8, fill, 3, cv2.INPAINT_TELEA).astype(np.float32)
    g_rgb = g_rgb.copy()
    g_rgb[y0:y1, x0:x1] = np.where(fill[..., None] > 0, grown, g_rgb[y0:y1, x0:x1])
    name = "torso" if "torso" in pieces else next(iter(pieces))
    pieces = dict(pieces)
    piece = pieces[name].copy()
    piece[y0:y1, x0:x1] = np.maximum(piece[y0:y1, x0:x1], fill.astype(np.float32))
    pieces[name] = piece
    return g_rgb, pieces


def _depth(body: Body) -> np.ndarray:
    """Every pixel's distance below the shoulder line, along the body's down vector."""
    h, w = body.shape
    kp = body.kp
    mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return (xx - mid_sh[0]) * body.d[0] + (yy - mid_sh[1]) * body.d[1]


def _torso_length(body: Body) -> float:
    kp = body.kp
    mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    mid_hip = (kp["l_hip"] + kp["r_hip"]) / 2
    return max(float(np.dot(mid_hip - mid_sh, body.d)), 0.5 * body.shoulder_width)


def _fabric_shading(person_rgb: np.ndarray, old: np.ndarray, sw: float, feather: float) -> np.ndarray:
    """Multiplier that carries the photo's folds and body shading onto the new fabric.

    The old garment's luminance, median-filtered so that thin print strokes, letters, lace and
    mesh vanish before the high-pass, at half resolution (folds are broad); deviations as
    large as a print's (tens of percent) fade out, so the old print does not ghost through.
    """
    h, w = old.shape
    lum8 = cv2.cvtColor(person_rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(lum8, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    k = max(5, int(0.02 * sw) | 1)
    med = cv2.medianBlur(small, k).astype(np.float32) / 255.0
    eps = 0.06
    sigma_hp = max(2.0, 0.04 * sw)
    log_ratio = np.log((med + eps) / (cv2.GaussianBlur(med, (0, 0), sigma_hp) + eps))
    # A plain garment's folds vary its luminance by ~5-8%; a printed, sheer or patterned one far
    # more, and that variation is the pattern, not light: scale the transfer down accordingly.
    small_old = cv2.resize(old.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    # (Robust spread: a logo covering a small share of the garment does not make it "printed".)
    vals = log_ratio[small_old > 0]
    spread = float(1.4826 * np.median(np.abs(vals - np.median(vals)))) if vals.size else 0.0
    gain = float(np.clip(0.04 / max(spread, 1e-6), 0.15, 1.0))
    log_ratio = gain * np.clip(log_ratio * np.exp(-((log_ratio / 0.15) ** 2)), -0.2, 0.12)
    # The photo's light, kept even where the folds are turned down: the old garment's large-scale
    # luminance (its own pixels only, heavily blurred), relative to its median and compressed, so
    # that broad light and shadow fall on the new fabric without the old colour blocks showing.
    m = small_old.astype(np.float32)
    if m.any():
        sigma_lo = max(4.0, 0.06 * sw)
        # Outliers (a logo, a dark panel) clipped to the fabric's common range before the blur.
        lum = small.astype(np.float32)
        q_lo, q_hi = np.percentile(lum[small_old > 0], (20, 80))
        lum = np.clip(lum, q_lo, q_hi)
        low = cv2.GaussianBlur(lum * m, (0, 0), sigma_lo) / np.maximum(cv2.GaussianBlur(m, (0, 0), sigma_lo), 1e-3)
        ref = max(float(np.median(low[small_old > 0])), 8.0)
        light = np.clip(0.5 * np.log(np.maximum(low, 1.0) / ref), -0.2, 0.1)
        log_ratio = log_ratio + np.where(cv2.GaussianBlur(m, (0, 0), sigma_lo) > 0.05, light, 0.0)
    log_ratio = cv2.resize(log_ratio.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    weight = _feather(old, 2 * feather)
    return np.exp(log_ratio * weight).astype(np.float32)


def _arm_reach(body: Body) -> np.ndarray:
    """Distance to each arm's bone divided by the arm's anatomical half width there (< 1: inside the arm).

    The half width tapers from the shoulder (0.15 shoulder widths) to the elbow (0.11) and the
    wrist (0.08): a loose old sleeve was wider than the arm, and its excess is not skin.
    """
    h, w = body.shape
    kp = body.kp
    sw = body.shoulder_width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    reach = np.full((h, w), np.inf, np.float32)
    for side in ("l", "r"):
        chain = [(kp[f"{side}_shoulder"], 0.15), (kp[f"{side}_elbow"], 0.11), (kp[f"{side}_wrist"], 0.08)]
        for (a, wa), (b, wb) in zip(chain[:-1], chain[1:], strict=True):
            ab = (b - a).astype(np.float32)
            t = np.clip(((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / max(float(ab @ ab), 1e-6), 0, 1)
            dist = np.hypot(xx - (a[0] + t * ab[0]), yy - (a[1] + t * ab[1]))
            reach = np.minimum(reach, dist / (sw * (wa + t * (wb - wa))))
    return reach


def _skin_zone(
    revealed: np.ndarray, pieces: dict[str, np.ndarray], regions: dict[str, np.ndarray], body: Body, category: str
) -> np.ndarray:
    """Uncovered old-garment pixels that must become skin: the arms (within their anatomical
    width), and the trunk above the new garment's neckline or below its hem (a shorter top
    bares the midriff). Gaps at the trunk's sides between the two are not skin."""
    if category == "bottoms" or not revealed.any():
        return np.zeros_like(revealed)
    arms = _region(regions, "arms", "arm_skin", "sleeves") & (_arm_reach(body) < 1.0)
    core = _body_core(body)
    # The neck's column above the shoulder line: an old collar there (relabelled garment by the
    # person analysis) above a lower new neckline is bare neck and chest.
    depth = _depth(body)
    mid_sh = (body.kp["l_shoulder"] + body.kp["r_shoulder"]) / 2
    yy, xx = np.mgrid[0 : body.shape[0], 0 : body.shape[1]].astype(np.float32)
    lateral = np.abs((xx - mid_sh[0]) * body.u[0] + (yy - mid_sh[1]) * body.u[1])
    core |= (
        (lateral < 0.3 * body.shoulder_width)
        & (depth < 0.1 * body.shoulder_width)
        & (depth > -0.45 * body.shoulder_width)
    )
    torso_piece = pieces.get("torso")
    bare_trunk = core
    if torso_piece is not None:
        covered = (torso_piece > 0.5) & core
        if covered.any():
            top, hem = float(depth[covered].min()), float(np.percentile(depth[covered], 99.5))
            # Above the neckline column by column: straps reaching up to the shoulders must not stop
            # the chest between them from being skin. (Columns the new garment misses: its top.)
            has = covered.any(axis=0)
            first = np.where(has, np.argmax(covered, axis=0), 0)
            col_top = np.where(has, depth[first, np.arange(covered.shape[1])], top)
            bare_trunk = core & ((depth < np.maximum(col_top[None, :], top)) | (depth > hem))
    return revealed & (arms | bare_trunk)


def _dress_below_hem(
    person_rgb: np.ndarray,
    revealed: np.ndarray,
    pieces: dict[str, np.ndarray],
    regions: dict[str, np.ndarray],
    body: Body,
) -> np.ndarray:
    """Uncovered old garment below the new top's hem that is the same garment carrying on into
    the lower body (a dress, a jumpsuit): each piece of it that touches the lower body's region and
    matches the colour there (Lab distance under 12) is kept. A top ending above a skirt of another
    colour, or a bare midriff, is not matched and is filled as before."""
    out = np.zeros_like(revealed)
    torso_piece = pieces.get("torso")
    lower = _region(regions, "lower_body")
    if torso_piece is None or not lower.any() or not revealed.any():
        return out
    covered = torso_piece > 0.5
    if not covered.any():
        return out
    depth = _depth(body)
    hem = (
        float(np.percentile(depth[covered & _body_core(body)], 99.5))
        if (covered & _body_core(body)).any()
        else float(depth[covered].max())
    )
    below = revealed & (depth > hem - 0.02 * body.shoulder_width)
    if not below.any():
        return out
    sw = body.shoulder_width
    lab = cv2.cvtColor(person_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    # The lower body's colour just under the uncovered strip (within 0.3 shoulder widths of it).
    near = cv2.dilate(below.astype(np.uint8), np.ones((int(0.3 * sw) | 1,) * 2, np.uint8)).astype(bool) & lower
    if near.sum() < 20:
        return out
    ref = np.median(lab[near], axis=0)
    touch = cv2.dilate(lower.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    n, labels = cv2.connectedComponents(below.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        piece = labels == i
        if (piece & touch).any() and np.linalg.norm(np.median(lab[piece], axis=0) - ref) < 12.0:
            out |= piece
    return out


def _skin_layer(
    person_rgb: np.ndarray, zone: np.ndarray, old: np.ndarray, tone: SkinTone, body: Body, feather: float
) -> tuple[np.ndarray, np.ndarray]:
    """Skin for ``zone``: (rgb float32 0..255, soft alpha).

    Colour: the person's measured skin (Lab). Light: the old garment's luminance, low-pass
    only (its folds and print must not show) and compressed, times a roundness term (arms and
    trunk darken toward their silhouette's edge), normalised so the median matches the
    measured skin. Texture: fine grain as strong as the real skin's. Edge: a soft alpha.
    """
    h, w = zone.shape
    sw = body.shoulder_width
    out = np.zeros((h, w, 3), np.float32)
    pad = int(3 * feather) + 4
    box = _bbox(zone)
    y0, y1, x0, x1 = max(0, box[0] - pad), min(h, box[1] + pad), max(0, box[2] - pad), min(w, box[3] + pad)
    crop = (slice(y0, y1), slice(x0, x1))
    z = zone[crop]
    m = old[crop].astype(np.float32)
    lum = cv2.cvtColor(person_rgb[crop], cv2.COLOR_RGB2GRAY).astype(np.float32)
    # Low-pass of the old garment's own luminance (the background does not bleed in).
    sigma = max(3.0, 0.05 * sw)
    low = cv2.GaussianBlur(lum * m, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(m, (0, 0), sigma), 1e-3)
    low = np.where(m > 0, low, float(np.median(lum[z])) if z.any() else 128.0)
    ratio = np.clip(low / max(float(np.median(low[z])), 1.0), 0.6, 1.4) ** 0.5
    # Roundness: darker toward the edge of the arm (distance to the bone) and of the trunk.
    sub_body = Body(
        shape=(y1 - y0, x1 - x0),
        kp={k: v - np.array([x0, y0]) for k, v in body.kp.items()},
        torso=body.torso[crop],
        arms=body.arms[crop],
    )
    reach = np.minimum(_arm_reach(sub_body), 1.0)
    kp = sub_body.kp
    mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    yy, xx = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32)
    lateral = np.abs((xx - mid_sh[0]) * body.u[0] + (yy - mid_sh[1]) * body.u[1]) / (0.55 * sw)
    on_arm = reach < 1.0
    round_ = np.where(on_arm, 1 - 0.25 * reach**2, 1 - 0.15 * np.minimum(lateral, 1.0) ** 2)
    light = ratio * round_
    light /= max(float(np.median(light[z])), 1e-3)
    lab = np.empty((y1 - y0, x1 - x0, 3), np.float32)
    lab[..., 0] = tone.lab[0] * light
    # Shadowed skin is a little more saturated than lit skin.
    chroma = np.clip(1.0 + 0.4 * (1.0 - light), 0.85, 1.3)
    lab[..., 1] = tone.lab[1] * chroma
    lab[..., 2] = tone.lab[2] * chroma
    # Grain: blurred a little (real noise is not pixel-independent after demosaicing and JPEG).
    rng = np.random.default_rng(7)
    noise = cv2.GaussianBlur(rng.standard_normal(lab.shape[:2]).astype(np.float32), (0, 0), 0.7)
    noise *= tone.grain / max(float(noise.std()), 1e-6)
    lab[..., 0] = np.clip(lab[..., 0] + noise, 0, 100)
    lab[..., 1:] += 0.3 * noise[..., None]
    out[crop] = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255.0
    alpha = np.zeros((h, w), np.float32)
    alpha[crop] = np.clip(cv2.GaussianBlur(z.astype(np.float32), (0, 0), max(0.8, feather)) * 1.02, 0, 1)
    alpha[crop] = np.where(z, np.maximum(alpha[crop], 0.5), alpha[crop])
    return out, alpha


def _bbox(region: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(region.any(1))[0], np.nonzero(region.any(0))[0]
    if not len(ys):
        return None
    return int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1


def _inpaint(image: np.ndarray, holes: np.ndarray) -> np.ndarray:
    h, w = holes.shape
    f = max(1, int(round(max(h, w) / 512)))
    small = cv2.resize(image, (w // f, h // f), interpolation=cv2.INTER_AREA)
    small_holes = cv2.resize(holes.astype(np.uint8), (w // f, h // f), interpolation=cv2.INTER_NEAREST)
    small_holes = cv2.dilate(small_holes, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, small_holes, 5, cv2.INPAINT_TELEA)
    big = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    out = image.copy()
    out[holes] = big[holes]
    return out


def draw_compose_debug(person_rgb: np.ndarray, comp: Composite) -> np.ndarray:
    """Final mask overlay: edited region tinted, garment alpha in green, refilled pixels in red
    (skin) or blue (surroundings grown in)."""
    out = person_rgb.astype(np.float32) * 0.5
    out[..., 1] += 127 * comp.garment_alpha
    skin = comp.skin if comp.skin is not None else np.zeros_like(comp.revealed)
    out[..., 0] += 127 * skin
    out[..., 2] += 127 * (comp.revealed & ~skin)
    edge = cv2.morphologyEx(comp.edited_mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    out[edge] = (255, 255, 0)
    return np.clip(out, 0, 255).astype(np.uint8)
