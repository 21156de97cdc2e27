"""The matte's edge and the colours there: a true mixing ratio at the outline, and the background's share
taken out of the edge colours, so a product cut from a grey card carries no grey fringe onto a dark backdrop."""

from __future__ import annotations

import cv2
import numpy as np

from imaging.masks import bounding_box, guided_filter


def edge_alpha(
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
    box = bounding_box(edge)
    if bg_rgb is not None and box is not None:
        x0, y0, x1, y1 = box
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
    refined = guided_filter(guide, alpha, radius=max(1, round(1.5 * band / 2)), eps=1e-4)
    out = np.where(edge, np.clip(refined, 0, 1), alpha).astype(np.float32)
    if keep_soft:
        out[unmixable] = alpha[unmixable]
        # Where light product and light backdrop meet dark product in one window, the filter's
        # linear model fails and spreads alpha onto the backdrop: let it smooth, not grow, the
        # matte (at most the matte's own value one pixel away).
        np.minimum(out, cv2.dilate(alpha, np.ones((3, 3), np.uint8)), out=out)
    return out


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
    reach = int(np.ceil(3 * (4 * sigma if bg_rgb is None else sigma)))  # the blurs' reach
    found = bounding_box(edge)
    assert found is not None  # (the edge is not empty)
    x0, y0, x1, y1 = found.padded(reach, h, w)
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
