"""The background model of a product photo: a smooth colour surface fitted to the image borders.

How well it fits (its robust residual and the share of border pixels it
explains) tells whether the background is plain, which decides the cut-out
method; its colour at every pixel is what the plain matte measures against
and what decontamination removes from edge colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# A border whose colour model leaves a robust residual below this (Lab units)
# with most border pixels explained is a plain background.
PLAIN_MAX_SIGMA = 5.0
PLAIN_MIN_INLIERS = 0.6


@dataclass
class BackgroundModel:
    lab: np.ndarray  # HxWx3 float32, the modelled background colour in Lab at every pixel
    rgb: np.ndarray  # HxWx3 float32 0-255, the same in RGB (for decontamination)
    sigma: float  # robust residual of the border pixels around the model (Lab units)
    inliers: float  # fraction of border pixels the model explains

    @property
    def is_plain(self) -> bool:
        return self.sigma <= PLAIN_MAX_SIGMA and self.inliers >= PLAIN_MIN_INLIERS


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 or float 0-255 RGB -> float32 Lab (L 0-100, a/b about -128..127)."""
    return cv2.cvtColor(rgb.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2Lab)


def border_ring(h: int, w: int) -> np.ndarray:
    """The image's outer band (2.5 % of the short side, at least 3 px) where the background is sampled."""
    b = max(3, round(0.025 * min(h, w)))
    ring = np.zeros((h, w), dtype=bool)
    ring[:b] = ring[-b:] = True
    ring[:, :b] = ring[:, -b:] = True
    return ring


def _poly_features(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def estimate_background(rgb: np.ndarray, lab: np.ndarray | None = None) -> BackgroundModel:
    """Fit a smooth (quadratic) Lab colour surface to the image borders, robustly.

    A product touching the border (cropped trouser legs) is excluded as
    outliers; what remains tells how plain the background is.
    """
    h, w = rgb.shape[:2]
    lab = to_lab(rgb) if lab is None else lab
    ys, xs = np.nonzero(border_ring(h, w))
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
