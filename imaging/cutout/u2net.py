"""The U-Net matte: U2-Net-p salient-object segmentation, for backgrounds no colour model explains.

The network (``models/u2netp.onnx``, input size and normalisation from the
model registry) sees the photo at its small input size; its map is upsampled
and snapped to the photo's edges with a guided filter.
"""

from __future__ import annotations

import cv2
import numpy as np

from imaging.errors import PipelineError
from imaging.masks import fill_small_holes, guided_filter, keep_main_components
from imaging.models import model


def saliency(rgb: np.ndarray) -> tuple[np.ndarray, float]:
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


def soft_matte(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The network's matte, snapped to the photo's edges with a guided filter (it is only 320 px)."""
    h, w = rgb.shape[:2]
    prob, raw_max = saliency(rgb)
    guide = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    r = max(2, round(max(h, w) / 320 * 2))  # about two model pixels
    refined = np.clip(guided_filter(guide, prob.astype(np.float32), radius=r, eps=1e-3), 0, 1)
    return np.clip((refined - 0.3) / 0.4, 0, 1).astype(np.float32), raw_max


def u2net_matte(rgb: np.ndarray) -> tuple[np.ndarray, dict]:
    h, w = rgb.shape[:2]
    soft, raw_max = soft_matte(rgb)
    if raw_max < 0.2:
        raise PipelineError("NO_PRODUCT", "No product stands out from the background of this photo.")
    core = keep_main_components(soft > 0.5, min_rel=0.05)
    # Fill small holes only (the network does not see through handles reliably either way).
    core = fill_small_holes(core, round(0.001 * h * w))
    band = max(2, round(3 * max(h, w) / 1000))
    near = cv2.dilate(core.astype(np.uint8), np.ones((2 * band + 1,) * 2, np.uint8)).astype(bool)
    alpha = np.where(core, np.maximum(soft, 0.5), np.where(near, soft, 0)).astype(np.float32)
    return alpha, {"u2net_raw_max": round(raw_max, 3)}
