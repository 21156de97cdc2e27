"""Mask helpers every pipeline shares: bounding boxes, connected parts, holes, drawn shapes, soft edges."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from imaging.types import Box, Mask


def bounding_box(mask: Mask) -> Box | None:
    """The smallest box holding every set pixel of ``mask`` (None when it is empty)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def fill_holes(mask: Mask) -> Mask:
    """Fill every background region that does not reach the image border."""
    h, w = mask.shape
    flood = np.zeros((h + 2, w + 2), np.uint8)
    flood[1:-1, 1:-1] = mask
    cv2.floodFill(flood, None, (0, 0), 2)
    return flood[1:-1, 1:-1] != 2


def largest_component(mask: Mask, keep_ratio: float = 0.0) -> Mask:
    """The largest connected part, plus any other part at least ``keep_ratio`` of its size."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    threshold = areas.max() * keep_ratio if keep_ratio > 0 else areas.max()
    return np.isin(labels, np.flatnonzero(areas >= threshold) + 1)


def keep_main_components(mask: Mask, min_rel: float = 0.05, min_abs: int = 50) -> Mask:
    """Keep the largest component and those at least ``min_rel`` of its area (a pair of shoes, a set)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(mask, dtype=bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep_ids = np.flatnonzero(areas >= max(min_abs, min_rel * areas.max())) + 1
    lut = np.zeros(n, dtype=bool)
    lut[keep_ids] = True
    return lut[labels]


def polygon(shape: tuple[int, int], points: npt.ArrayLike) -> Mask:
    """A filled polygon through ``points`` ((N, 2) x, y), rounded to pixels."""
    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.round(np.asarray(points)).astype(np.int32)], 1)
    return out.astype(bool)


def capsule(shape: tuple[int, int], a: npt.ArrayLike, b: npt.ArrayLike, radius: float) -> Mask:
    """A segment from ``a`` to ``b`` (x, y) thickened to ``radius``, with round ends."""
    out = np.zeros(shape, np.uint8)
    pa = tuple(int(v) for v in np.round(np.asarray(a)).astype(int))
    pb = tuple(int(v) for v in np.round(np.asarray(b)).astype(int))
    cv2.line(out, pa, pb, 1, max(1, int(round(2 * radius))), lineType=cv2.LINE_8)
    cv2.circle(out, pa, int(round(radius)), 1, -1)
    cv2.circle(out, pb, int(round(radius)), 1, -1)
    return out.astype(bool)


def feather(mask: Mask, sigma: float) -> npt.NDArray[np.float32]:
    """A soft version of ``mask``: Gaussian-blurred edges (none when ``sigma`` is 0)."""
    m = mask.astype(np.float32)
    if sigma <= 0:
        return m
    return cv2.GaussianBlur(m, (0, 0), sigma)  # type: ignore[return-value]


def box_filter(image: npt.NDArray[np.floating], radius: int) -> npt.NDArray[np.float32]:
    """Mean over a (2r+1) square window, borders reflected."""
    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)  # type: ignore[return-value]


def guided_filter(
    guide: npt.NDArray[np.floating], src: npt.NDArray[np.floating], radius: int, eps: float
) -> npt.NDArray[np.floating]:
    """He et al.'s guided filter with a grey guide (both float32 in [0, 1]).

    Makes ``src`` (a matte) follow the edges of ``guide`` (the photo) in O(N)
    with box filters; good enough to snap an upsampled or hard-cleaned matte to
    the real edge.
    """
    mean_i = box_filter(guide, radius)
    mean_p = box_filter(src, radius)
    cov_ip = box_filter(guide * src, radius) - mean_i * mean_p
    var_i = box_filter(guide * guide, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box_filter(a, radius) * guide + box_filter(b, radius)


def fill_small_holes(mask: Mask, max_area: int) -> Mask:
    """Fill the holes of ``mask`` (background regions not reaching the border) smaller than ``max_area`` pixels."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    border_ids = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    small = stats[:, cv2.CC_STAT_AREA] < max_area
    small[0] = False
    small[border_ids] = False
    return mask | small[labels] if small.any() else mask


def union(masks: dict[str, Mask], *names: str) -> Mask:
    """The union of the named masks of ``masks`` (those present; all of the same shape)."""
    shape = next(iter(masks.values())).shape
    out = np.zeros(shape, bool)
    for name in names:
        if name in masks:
            out |= masks[name]
    return out
