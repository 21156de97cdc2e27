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
        mask &= ~background_slits(photo, mask)
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
            mask=cv2.resize(s.mask.astype(np.uint8), full_size, interpolation=cv2.INTER_NEAREST) > 0,
        )
        for side, s in outline.sleeves.items()
    }
    torso = cv2.resize(outline.torso.astype(np.uint8), full_size, interpolation=cv2.INTER_NEAREST) > 0
    return GarmentAnalysis(
        rgb=np.ascontiguousarray(rgb),
        alpha=np.ascontiguousarray(alpha),
        category=kind.category,
        landmarks=landmarks,
        sleeves=sleeves,
        torso_mask=torso,
        cutout_method=method,
    )
