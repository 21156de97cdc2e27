"""Getting photos into the model's frame and back: resize, pad, normalise, the garment's own cut-out, paste-back.

Resize and pad follow upstream (``src/fashn_vton/preprocessing/transforms.py``,
``pipeline.py``): photos are first fitted inside a square of the model's long
side without upsampling (Pillow Lanczos); then fitted into the model's HxW
(OpenCV: area when shrinking, Lanczos-4 when growing, nearest-exact for pose
images; sizes truncated to int) and padded with black, symmetrically (the extra
pixel on the right/bottom). Model tensors are ``x / 127.5 - 1``; the output goes
back through ``clip(-1, 1)``, ``(x + 1) / 2 * 255`` truncated to uint8
(torchvision's ``to_pil_image``), and the padding is cut away.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .dwpose import VISIBLE, Pose

GRAY = 127  # upstream's mask value for what is not garment


@dataclass(frozen=True)
class Padding:
    left: int
    top: int
    right: int
    bottom: int


def fit_no_upscale(rgb: np.ndarray, side: int) -> np.ndarray:
    """Fit inside side x side, never enlarging (Pillow Lanczos), as upstream's pre-resize."""
    h, w = rgb.shape[:2]
    scale = min(side / w, side / h)
    if scale >= 1.0:
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((int(scale * w), int(scale * h)), Image.Resampling.LANCZOS))


def resize_pad(img: np.ndarray, height: int, width: int, *, nearest: bool = False) -> tuple[np.ndarray, Padding]:
    """Fit into height x width (up or down) keeping the aspect, then pad with black to exactly that size."""
    h, w = img.shape[:2]
    scale = min(width / w, height / h)
    if scale != 1.0:
        size = (int(scale * w), int(scale * h))
        smooth = cv2.INTER_LANCZOS4 if scale > 1 else cv2.INTER_AREA
        interp = cv2.INTER_NEAREST_EXACT if nearest else smooth
        img = cv2.resize(img, size, interpolation=interp)
    h, w = img.shape[:2]
    dw, dh = max(width - w, 0), max(height - h, 0)
    pad = Padding(dw // 2, dh // 2, dw - dw // 2, dh - dh // 2)
    out = cv2.copyMakeBorder(img, pad.top, pad.bottom, pad.left, pad.right, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return out, pad


def unpad(img: np.ndarray, pad: Padding) -> np.ndarray:
    return img[pad.top : img.shape[0] - pad.bottom, pad.left : img.shape[1] - pad.right]


def to_model(img: np.ndarray) -> np.ndarray:
    """HxWxC or HxW uint8 -> (1, C, H, W) float32 in [-1, 1]."""
    chw = img.transpose(2, 0, 1) if img.ndim == 3 else img[None]
    return (chw[None].astype(np.float32) / np.float32(127.5) - np.float32(1.0)).astype(np.float32)


def from_model(x: np.ndarray) -> np.ndarray:
    """(1, 3, H, W) in [-1, 1] -> HxWx3 uint8, truncating as torchvision's to_pil_image does."""
    img = (np.clip(x[0], -1.0, 1.0) + 1.0) * 0.5
    return (img * 255.0).astype(np.uint8).transpose(1, 2, 0)


# --------------------------------------------------------------------------- worn garments


def _rows(pose: Pose, joints: list[int], height: int) -> float | None:
    pts = [pose.body[j][1] * height for j in joints if pose.visible_body[j]]
    return float(np.mean(pts)) if pts else None


def garment_band(pose: Pose, category: str, height: int) -> tuple[int, int]:
    """Rows of a worn photo where the garment of ``category`` can be, from the wearer's keypoints.

    Our rule (upstream uses a human parser we cannot use): tops from a little
    above the shoulders to well below the hips (tunics, long tees), bottoms from
    a little above the hips down, one-pieces from the shoulders down. Points are
    OpenPose-18: 2/5 shoulders, 8/11 hips.
    """
    shoulders = _rows(pose, [2, 5], height)
    hips = _rows(pose, [8, 11], height)
    if shoulders is None and hips is None:
        return 0, height
    torso = (hips - shoulders) if shoulders is not None and hips is not None else 0.3 * height
    if torso < 0.05 * height:  # hips not below the shoulders: not a standing wearer, keep every row
        return 0, height
    top_of = {
        "tops": shoulders if shoulders is not None else (hips or 0) - torso,
        "bottoms": hips if hips is not None else (shoulders or 0) + torso,
        "one-pieces": shoulders if shoulders is not None else (hips or 0) - torso,
    }[category]
    start = top_of - 0.2 * torso
    end = (hips if hips is not None else (shoulders or 0) + torso) + 0.6 * torso if category == "tops" else height
    return max(0, int(start)), min(height, int(np.ceil(end)))


def isolate_worn_garment(rgb: np.ndarray, pose: Pose, category: str, alpha: np.ndarray) -> np.ndarray:
    """Gray (127) everywhere but the garment: the cut-out's foreground within the category's body band."""
    top, bottom = garment_band(pose, category, rgb.shape[0])
    keep = alpha > 0.5
    keep[:top] = False
    keep[bottom:] = False
    out = rgb.copy()
    out[~keep] = GRAY
    return out


def is_worn(pose: Pose) -> bool:
    """A garment photo shows it worn when a person was detected with shoulders or hips visible.

    Flat-lay and ghost-mannequin photos give no detection (or no torso joints);
    upstream then draws no pose and does not mask the garment.
    """
    if pose.box is None:
        return False
    torso = [2, 5, 8, 11]
    return int(np.sum(pose.body_score[torso] > VISIBLE)) >= 2


# --------------------------------------------------------------------------- paste-back


def person_region(pose: Pose, height: int, width: int, margin: float = 0.12) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 (exclusive) of the person in an image of height x width, with a margin for the new garment.

    The union of the detection box and every visible keypoint, grown by
    ``margin`` of its size on each side (a mask-free generator may make the
    garment wider or longer than the old one).
    """
    xs: list[float] = []
    ys: list[float] = []
    if pose.box is not None:
        xs += [float(pose.box[0]), float(pose.box[2])]
        ys += [float(pose.box[1]), float(pose.box[3])]
    body = pose.body[pose.visible_body]
    others = np.concatenate([pose.hands.reshape(-1, 2), pose.face])
    others = others[(others[:, 0] > 0) & (others[:, 1] > 0)]
    points = np.concatenate([body, others])
    xs += list(points[:, 0] * width)
    ys += list(points[:, 1] * height)
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    return (
        max(0, int(x0 - mx)),
        max(0, int(y0 - my)),
        min(width, int(np.ceil(x1 + mx))),
        min(height, int(np.ceil(y1 + my))),
    )


def paste_back(
    base: np.ndarray, generated: np.ndarray, region: tuple[int, int, int, int], feather: int
) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``generated`` (any size, same framing as ``base``) into ``base`` inside ``region``.

    Returns the image and the mask of pixels that may differ. Outside the region
    the result is ``base`` bit for bit: the blend weight is a rectangle eroded by
    ``feather`` and blurred by a kernel of the same radius, so it is exactly 0 there.
    """
    h, w = base.shape[:2]
    gh, gw = generated.shape[:2]
    interp = cv2.INTER_LANCZOS4 if h * w > gh * gw else cv2.INTER_AREA
    up = cv2.resize(generated, (w, h), interpolation=interp) if (gh, gw) != (h, w) else generated
    x0, y0, x1, y1 = region
    alpha: np.ndarray = np.zeros((h, w), np.float32)
    f = max(0, min(feather, (x1 - x0) // 4, (y1 - y0) // 4))
    # Sides on the image border are not feathered (the person is cut by the frame there).
    alpha[
        y0 + (f if y0 > 0 else 0) : y1 - (f if y1 < h else 0), x0 + (f if x0 > 0 else 0) : x1 - (f if x1 < w else 0)
    ] = 1
    if f > 0:
        alpha = cv2.GaussianBlur(alpha, (2 * f + 1, 2 * f + 1), f / 2.0, borderType=cv2.BORDER_REPLICATE)
    edited = alpha > 0
    blended = base.astype(np.float32) * (1 - alpha[..., None]) + up.astype(np.float32) * alpha[..., None]
    out = np.where(edited[..., None], np.clip(blended + 0.5, 0, 255).astype(np.uint8), base)
    return out, edited
