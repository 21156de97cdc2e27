"""Choosing and combining the cut-out methods for one photo: the entry point, :func:`cut_out`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from imaging.errors import PipelineError
from imaging.masks import bounding_box, box_filter, fill_small_holes, keep_main_components
from imaging.types import Box

from .background import border_ring, estimate_background, to_lab
from .edges import decontaminate, edge_alpha
from .plain import LIGHT_LEVELS, PlainAnalysis, certain_background, plain_analysis, uncertainty
from .u2net import soft_matte, u2net_matte

METHODS = ("auto", "plain", "u2net")
# Plausible product area as a fraction of the photo.
MIN_AREA_FRACTION = 0.002
MAX_AREA_FRACTION = 0.97
# How much the difference from the backdrop is stretched for the network's second look at white on white.
WHITE_STRETCH = 8.0


@dataclass
class Cutout:
    rgb: np.ndarray  # HxWx3 uint8, colours decontaminated at the edge where possible
    alpha: np.ndarray  # HxW float32 in [0, 1]
    method: str  # "plain" (background estimation) or "u2net"
    bbox: Box  # of alpha > 0.5
    info: dict[str, Any] = field(default_factory=dict)  # measurements for the debug output


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


def _u2net_assist(
    rgb: np.ndarray, plain: PlainAnalysis, info: dict[str, Any], bg_rgb: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add what the network sees as product and the colour model missed (white on white).

    Never a removed shadow that the network confirms (it sees background
    there), a hole that the colour model found open and the network confirms,
    nor pixels the tight model calls certain background (the gap between a
    sleeve and the body on a flat backdrop). When the outline itself is white
    on white (``light_outline``), the network places it: a white garment is
    often retouched to the backdrop's very level near its edge, where the
    colour model sees nothing but noise (bites out of the sides, a ragged
    fringe of weak evidence outside it); when the network sees only the
    print there, it takes a second look at the photo with its difference from
    the backdrop stretched. Returns (core, soft matte, the photo's shadow).
    """
    h, w = rgb.shape[:2]
    core, soft = plain.core, plain.raw
    u2_soft, raw_max = soft_matte(rgb)
    # Shaded white fabric on a vignetted backdrop can pass for the photo's shadow: only the shadows
    # the network also sees as background stay out.
    shadow = _holes_confirmed(plain.shadow, u2_soft) if raw_max >= 0.2 else plain.shadow
    u2_core = keep_main_components(u2_soft > 0.5, min_rel=0.05)
    # ... provided the network sees the product at all: on a white garment it sometimes finds only
    # the print, and then the colour model's outline, ragged or not, is the better one.
    light_outline = "light_outline" in info.get("u2net_reasons", ())
    covered = float((core & (u2_soft > 0.5)).sum()) / max(1.0, float(core.sum()))
    if light_outline and covered <= 0.75 and plain.bg_like is not None:
        # At the photo's contrast the network may not see white on white at all; it does once the
        # few levels between garment and backdrop are stretched (a level-flat backdrop has no noise
        # for the stretch to amplify).
        stretched = np.clip(128 + (rgb.astype(np.float32) - bg_rgb) * WHITE_STRETCH, 0, 255).astype(np.uint8)
        u2_second, raw_second = soft_matte(stretched)
        covered_second = float((core & (u2_second > 0.5)).sum()) / max(1.0, float(core.sum()))
        info["u2net_stretched"] = round(covered_second, 3)
        if covered_second > covered:
            u2_soft, raw_max, covered = u2_second, raw_second, covered_second
            shadow = _holes_confirmed(plain.shadow, u2_soft) if raw_max >= 0.2 else plain.shadow
            u2_core = keep_main_components(u2_soft > 0.5, min_rel=0.05)
    white_on_white = light_outline and raw_max >= 0.2 and covered > 0.75
    if plain.bg_like is not None and not white_on_white:
        # Certain background: a whole neighbourhood that matches the backdrop's level and smoothness.
        u2_core &= ~certain_background(plain.bg_like, max(h, w) / 1000)
    missed = float((u2_core & ~core).sum()) / max(1.0, float(u2_core.sum()))
    info["u2net_missed"] = round(missed, 3)
    if white_on_white:
        # Light pixels are the network's call both ways; the colour model keeps what clearly
        # contrasts with the backdrop (a dark strap or trim the network may round off).
        light = np.abs(rgb.astype(np.float32) - bg_rgb).max(axis=2) < LIGHT_LEVELS
        core = (core & ~(light & ~u2_core)) | u2_core
        # The network's ramp is as wide as its guided filter (a few pixels): steepened to a crisp,
        # still anti-aliased edge, as a photographed garment's is.
        soft = np.where(light, np.clip(2 * u2_soft - 0.5, 0, 1), soft)
        info["u2net_outline"] = True
    if raw_max >= 0.2 and (missed > 0.05 or white_on_white):
        still_open = _holes_confirmed(plain.open_holes, u2_soft)
        core = (core | u2_core | (plain.shadow & ~shadow)) & ~shadow & ~still_open
        core = fill_small_holes(keep_main_components(core, min_rel=0.03), round(0.0005 * h * w))
        soft = np.maximum(soft, np.where(u2_core, u2_soft, 0))
        info["u2net_assist"] = True
    return core, soft, shadow


def centre_lift(lightness: np.ndarray) -> float:
    """How much lighter the backdrop model is in the middle third of the photo than along its border."""
    h, w = lightness.shape
    middle = float(lightness[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].mean())
    return middle - float(lightness[border_ring(h, w)].mean())


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
    info: dict[str, Any] = {
        "bg_sigma": round(bg.sigma, 2),
        "bg_inliers": round(bg.inliers, 3),
        "bg_plain": bg.is_plain,
        "bg_centre_lift": round(centre_lift(bg.lab[..., 0]), 2),
    }
    band = max(3, round(4 * max(h, w) / 1000))  # edges of product photos are often 3-5 px soft

    alpha = None
    chosen = "u2net"
    if method == "plain" or (method == "auto" and bg.is_plain):
        plain = plain_analysis(lab, bg, rgb)
        del lab
        info.update(plain.info)
        core, soft, shadow = plain.core, plain.raw, plain.shadow
        if method == "auto":
            # The network costs 0.15-0.5 s on a CPU: ask it only when the plain
            # estimate is uncertain, and say why in ``info``.
            reasons = uncertainty(core, info)
            info["u2net_reasons"] = reasons
            if reasons:
                core, soft, shadow = _u2net_assist(rgb, plain, info, bg.rgb)
        alpha = edge_alpha(rgb, core, soft, band, bg.rgb, keep_soft=plain.bg_like is not None)
        if plain.bg_like is not None and not info.get("u2net_outline"):
            # At the outline, a pixel with the backdrop's exact level and smoothness is backdrop,
            # whatever the (weak, window-based) evidence said: otherwise a light garment edge
            # carries a band of backdrop-coloured pixels, a light rim on a dark scene. (Not where the
            # network placed a white-on-white outline: there the fabric itself has the backdrop's level.)
            kb = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
            rim = (cv2.dilate(core.astype(np.uint8), kb) > 0) & ~(cv2.erode(core.astype(np.uint8), kb) > 0)
            backdrop = box_filter(plain.bg_like.astype(np.float32), 1)
            alpha[rim] *= 1 - backdrop[rim]
        if shadow.any():
            alpha[shadow & (alpha < 0.99)] = 0.0
        area = float((alpha > 0.5).mean())
        chosen = "plain"
        if not MIN_AREA_FRACTION <= area <= MAX_AREA_FRACTION:
            if method == "plain":
                raise PipelineError("NO_PRODUCT", "No product could be separated from the plain background.")
            alpha = None  # implausible: let the network alone try
    if alpha is None:
        alpha, extra = u2net_matte(rgb)
        info.update(extra)
        chosen = "u2net"
        area = float((alpha > 0.5).mean())
        if not MIN_AREA_FRACTION <= area <= MAX_AREA_FRACTION:
            raise PipelineError("NO_PRODUCT", "No product could be separated from the background of this photo.")

    box_ = bounding_box(alpha > 0.5)
    if box_ is None:
        raise PipelineError("NO_PRODUCT", "No product could be separated from the background of this photo.")
    clean_rgb = decontaminate(rgb, alpha, bg.rgb if bg.is_plain else None)
    info["area_fraction"] = round(float((alpha > 0.5).mean()), 4)
    return Cutout(rgb=clean_rgb, alpha=alpha, method=chosen, bbox=box_, info=info)
