"""Garment analysis: cut the product out, decide what it is, find its landmarks.

Works on product photos (flat-lay, ghost mannequin) on plain backgrounds. All the
landmarks come from the silhouette, measured row by row by the garment category's
rules (``categories/``).
"""

from __future__ import annotations

import cv2
import numpy as np

from imaging.cutout import cut_out
from imaging.errors import PipelineError
from imaging.masks import bounding_box, fill_holes, largest_component
from imaging.options import AUTO, CATEGORY_CHOICES

from .categories import garment_category
from .garment_model import GarmentAnalysis, Sleeve
from .silhouette import background_slits, classify_silhouette, clean_mask, clean_rim, separation_problem

# The analysis runs on the cutout scaled to this height: enough for landmarks, cheap.
ANALYSIS_HEIGHT = 512


def analyze_garment(rgb: np.ndarray, *, category: str = AUTO, alpha: np.ndarray | None = None) -> GarmentAnalysis:
    """Cut out the garment in ``rgb`` and measure it.

    ``alpha`` skips the cutout when the caller already has one (e.g. an RGBA upload).
    Raises ``PipelineError("NO_GARMENT")`` when nothing garment-like can be separated.
    """
    if category not in CATEGORY_CHOICES:
        raise PipelineError(
            "BAD_CATEGORY", f"Unknown garment category {category!r}; use {', '.join(CATEGORY_CHOICES)}."
        )
    method = "given"
    cut_alpha: np.ndarray | None = None
    if alpha is None:
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
        cut_alpha = cut.alpha
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
    mask = fill_holes(clean_mask(mask))
    if method != "given":
        # The gap between a hanging sleeve and the torso is background that the cutout or the
        # closing above may have filled as a hole: open such slits again, on the photo's colours.
        mask &= ~background_slits(photo, mask, cut_alpha)
        mask = largest_component(mask, keep_ratio=0.15)
    # A print the cutout mistook for background leaves a hole: garments are solid inside.
    alpha = np.where(mask & (alpha < 0.5), 1.0, alpha * mask).astype(np.float32)
    if mask.sum() < 0.02 * mask.size:
        raise PipelineError("NO_GARMENT", "The garment photo shows no garment large enough to use.")

    # Crop around the garment with a small margin; everything below works in crop pixels.
    found = bounding_box(mask)
    assert found is not None  # (at least 2% of the photo is garment)
    crop = found.padded(int(0.02 * max(mask.shape)), *mask.shape).slices
    rgb, alpha, mask = rgb[crop], alpha[crop] * mask[crop], mask[crop]
    rgb = clean_rim(rgb, mask)

    # Measure on a fixed-height copy; scale the results back.
    scale = ANALYSIS_HEIGHT / mask.shape[0]
    small = cv2.resize(
        mask.astype(np.uint8), (max(8, round(mask.shape[1] * scale)), ANALYSIS_HEIGHT), interpolation=cv2.INTER_NEAREST
    ).astype(bool)
    small = largest_component(small)
    kind = garment_category(classify_silhouette(small) if category == AUTO else category)
    outline = kind.outline(small)

    inv = 1.0 / scale
    full_size = (mask.shape[1], mask.shape[0])
    landmarks = {k: (np.asarray(v, np.float32) + 0.5) * inv - 0.5 for k, v in outline.landmarks.items()}
    sleeves = {
        side: Sleeve(
            shoulder=(s.shoulder + 0.5) * inv - 0.5,
            cuff=(s.cuff + 0.5) * inv - 0.5,
            half_width=s.half_width * inv,
            root_half_width=s.root_half_width * inv,
            mask=cv2.resize(s.mask.astype(np.uint8), full_size, interpolation=cv2.INTER_NEAREST) > 0,
        )
        for side, s in outline.sleeves.items()
    }
    torso = cv2.resize(outline.torso.astype(np.uint8), full_size, interpolation=cv2.INTER_NEAREST) > 0
    # The inside of the back seen through the neckline would be drawn on the chest: on a body
    # the neck fills that opening, so the front piece leaves it out (measured after the
    # landmarks, which place the garment from the silhouette that includes it).
    panel = inner_back_panel(rgb, mask, landmarks)
    alpha = np.where(panel, 0.0, alpha).astype(np.float32)
    torso &= ~panel
    return GarmentAnalysis(
        rgb=np.ascontiguousarray(rgb),
        alpha=np.ascontiguousarray(alpha),
        category=kind.category,
        landmarks=landmarks,
        sleeves=sleeves,
        torso_mask=torso,
        cutout_method=method,
    )


# The front fabric must be this much lighter (Lab L, 0-255) than the inner back seen
# through the neckline: the grey inside of a white tee is ~50 darker, shading on the
# front fabric well under that.
PANEL_DARKER = 25


def inner_back_panel(rgb: np.ndarray, mask: np.ndarray, landmarks: dict[str, np.ndarray]) -> np.ndarray:
    """The inside of the garment's back seen through its neckline, as a mask of ``rgb``.

    A product photo shows it as a solid region under the middle of the neckline, held off
    the chest by the front fabric below it, darker than that front fabric.
    Empty when the garment has no neckline landmarks or no such region.
    """
    panel = np.zeros(mask.shape, bool)
    if "l_neck" not in landmarks or "r_neck" not in landmarks:
        return panel
    a, b = landmarks["r_neck"], landmarks["l_neck"]
    x0, x1 = int(round(min(a[0], b[0]))), int(round(max(a[0], b[0])))
    width = x1 - x0
    if width < 8:
        return panel
    # The corners sit on the collar's top; the inside runs on under the collar beyond them
    # (a straight cut there leaves a dark sliver at each side of the opening).
    margin = int(0.15 * width)
    x0, x1 = max(0, x0 - margin), min(mask.shape[1], x1 + margin)
    h = mask.shape[0]
    top = max(0, int(min(a[1], b[1])))
    y1 = min(h, top + int(0.8 * width))
    below = mask[y1 : min(h, y1 + width // 2), x0:x1]
    if y1 - top < 4 or below.sum() < 0.2 * below.size:
        return panel
    light = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    front = float(np.median(light[y1 : min(h, y1 + width // 2), x0:x1][below]))
    dark = (mask[top:y1, x0:x1] & (light[top:y1, x0:x1] < front - PANEL_DARKER)).astype(np.uint8)
    # A striped inside is one panel: its light stripes join it, or they would float in the
    # opening. A print's thin dark lines are no panel: it is a solid region.
    kv = max(3, int(0.15 * width) | 1)
    dark = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, np.ones((kv, 1), np.uint8)) * mask[top:y1, x0:x1]
    k = max(3, int(0.06 * width) | 1)
    box = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(box, connectivity=8)
    bh, bw = box.shape
    for i in range(1, n):
        x, y, w, hh, area = stats[i]
        # Under the neckline's middle and held off the box's bottom by the front fabric (its
        # sides may reach past the corners: a tank's straps lean inwards).
        centred = x < bw // 2 < x + w
        if centred and y + hh < bh and area >= 0.05 * bh * bw and w >= 0.3 * bw:
            panel[top:y1, x0:x1] |= labels == i
    # A label sewn on the inside, or its light stripes, would float in the opening: each row
    # of the panel runs from its leftmost to its rightmost pixel.
    for y in np.flatnonzero(panel.any(axis=1)):
        xs = np.flatnonzero(panel[y])
        panel[y, xs[0] : xs[-1] + 1] = True
    return panel & mask
