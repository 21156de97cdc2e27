"""Warp: bend a garment piece onto the body.

Each piece (a top's torso and sleeves, a pair of trousers) is bent by a thin-plate
spline (TPS) that takes its landmarks to targets placed from the person's pose and
silhouette (the garment's category decides the targets). The TPS is evaluated
backwards (body pixel -> garment pixel) on a coarse grid and upsampled, then applied
with ``cv2.remap``: a few milliseconds per piece.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from imaging.types import Box

from .geometry import ThinPlateSpline

GRID_STEP = 8  # px between exact TPS evaluations; the rest is bilinear in between


@dataclass
class WarpedPiece:
    """One garment piece in the person's frame, inside ``box``."""

    name: str  # "torso", "l_sleeve", "r_sleeve", "bottoms"
    rgb: np.ndarray  # hxwx3 float32 0..255
    alpha: np.ndarray  # hxw float32 0..1
    box: Box
    map_x: np.ndarray  # hxw float32: garment x for each pixel of the box (for the debug grid)
    map_y: np.ndarray


@dataclass
class WarpResult:
    pieces: list[WarpedPiece]
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # name -> (garment, body)
    scale: float = 1.0  # garment px -> body px

    def layers(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Pieces pasted in order on a full canvas: (rgb float32, alpha, per-piece alpha)."""
        h, w = shape
        rgb = np.zeros((h, w, 3), np.float32)
        alpha = np.zeros((h, w), np.float32)
        per_piece = {}
        for piece in self.pieces:
            x0, y0, x1, y1 = piece.box
            a = piece.alpha
            sub_a = alpha[y0:y1, x0:x1]
            sub_rgb = rgb[y0:y1, x0:x1]
            sub_rgb[:] = piece.rgb * a[..., None] + sub_rgb * (1 - a[..., None])
            sub_a[:] = a + sub_a * (1 - a)
            full = np.zeros((h, w), np.float32)
            full[y0:y1, x0:x1] = a
            per_piece[piece.name] = full
        # Un-premultiply: rgb holds colour where alpha > 0.
        rgb = np.where(alpha[..., None] > 1e-4, rgb / np.maximum(alpha[..., None], 1e-4), 0)
        return rgb, alpha, per_piece


def warp_piece(
    name: str,
    rgb: np.ndarray,
    alpha: np.ndarray,
    body_pts: np.ndarray,
    garment_pts: np.ndarray,
    box: Box,
    smoothing: float = 0.0,
) -> WarpedPiece | None:
    """Warp ``rgb``/``alpha`` so that garment_pts land on body_pts, rendered inside ``box``."""
    x0, y0, x1, y1 = box
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    # A landmark the analysis could not place (NaN) must not reach the spline: its solve does not
    # converge then. Fit the others; with fewer than three there is no warp of this piece.
    finite = np.isfinite(body_pts).all(axis=1) & np.isfinite(garment_pts).all(axis=1)
    body_pts, garment_pts = body_pts[finite], garment_pts[finite]
    if len(body_pts) < 3:
        return None
    tps = ThinPlateSpline(body_pts, garment_pts, smoothing=smoothing)  # backwards: body -> garment
    gx = np.arange(x0, x1 + GRID_STEP, GRID_STEP, dtype=np.float64)
    gy = np.arange(y0, y1 + GRID_STEP, GRID_STEP, dtype=np.float64)
    grid = np.stack(np.meshgrid(gx, gy), axis=-1)
    coarse = tps(grid).astype(np.float32)
    # Upsample the coarse map: the corner samples sit exactly on pixel centres x0, x0+STEP, ...
    full_w = (len(gx) - 1) * GRID_STEP + 1
    full_h = (len(gy) - 1) * GRID_STEP + 1
    maps = resize_corner_aligned(coarse, full_w, full_h)[: y1 - y0, : x1 - x0]
    map_x = np.ascontiguousarray(maps[..., 0])
    map_y = np.ascontiguousarray(maps[..., 1])
    warped = cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    a = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return WarpedPiece(name=name, rgb=warped.astype(np.float32), alpha=a, box=box, map_x=map_x, map_y=map_y)


def resize_corner_aligned(coarse: np.ndarray, w: int, h: int) -> np.ndarray:
    """Bilinear upsampling where the first/last samples stay on the first/last output pixels."""
    ch, cw = coarse.shape[:2]
    xs = np.linspace(0, cw - 1, w, dtype=np.float32)
    ys = np.linspace(0, ch - 1, h, dtype=np.float32)
    mx, my = np.meshgrid(xs, ys)
    return cv2.remap(coarse, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _jacobian(piece: WarpedPiece) -> np.ndarray:
    """The backward map's Jacobian per pixel (hxwx2x2: d(garment x, y) / d(body x, y))."""
    mx, my = piece.map_x, piece.map_y
    return np.stack(
        [
            np.stack([np.gradient(mx, axis=1), np.gradient(mx, axis=0)], axis=-1),
            np.stack([np.gradient(my, axis=1), np.gradient(my, axis=0)], axis=-1),
        ],
        axis=-2,
    )


def _shown_share(warp: WarpResult, piece_name: str, where: Callable[[np.ndarray], np.ndarray]) -> float:
    """Share of a piece's visible pixels (alpha over 0.5) where ``where`` (given the Jacobians) holds; 0
    without the piece."""
    for piece in warp.pieces:
        if piece.name != piece_name:
            continue
        shown = piece.alpha > 0.5
        if not shown.any():
            return 0.0
        return float(where(_jacobian(piece)[shown]).mean())
    return 0.0


def folded_share(warp: WarpResult, piece_name: str) -> float:
    """Share of a piece's visible pixels (alpha over 0.5) where its warp folds over itself: the
    backward map's Jacobian has a determinant of zero or less, so neighbouring body pixels read
    the garment in mirrored order. A spline pulled past its landmarks folds that way, and shows
    as smeared, streaked fabric. 0 without the piece."""
    return _shown_share(warp, piece_name, lambda j: np.linalg.det(j) <= 0)


# A warp stretching the fabric this many times more one way than the other shows it as streaks.
STREAK_STRETCH = 3.0


def streaked_share(warp: WarpResult, piece_name: str) -> float:
    """Share of a piece's visible pixels (alpha over 0.5) where its warp stretches the fabric over
    ``STREAK_STRETCH`` times more in one direction than across it (the ratio of the Jacobian's singular
    values): a sliver of the garment blown up to an arm's width, or a sleeve twisted at a bent elbow,
    shows there as streaks. 0 without the piece."""

    def streaked(j: np.ndarray) -> np.ndarray:
        sv = np.linalg.svd(j, compute_uv=False)
        return sv[:, 0] > STREAK_STRETCH * sv[:, 1]

    return _shown_share(warp, piece_name, streaked)
