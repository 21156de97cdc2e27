"""Drawing helpers for the pipelines' debug overlays (what each stage saw, drawn over the photo)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from imaging.types import Mask, RGBImage

Colour = tuple[int, int, int]


def pixel(point: npt.ArrayLike) -> tuple[int, int]:
    """A point (x, y) as the nearest pixel, for OpenCV's drawing calls."""
    x, y = np.round(np.asarray(point, np.float64)).astype(int)
    return int(x), int(y)


def blend(image: npt.NDArray[np.float32], mask: Mask, colour: Colour, opacity: float) -> None:
    """Tint ``mask``'s pixels of a float image with ``colour`` at ``opacity``, in place."""
    image[mask] = image[mask] * (1 - opacity) + np.array(colour, np.float32) * opacity


def draw_outline(image: RGBImage, mask: Mask, colour: Colour, thickness: int) -> None:
    """Draw the outer contours of ``mask`` on ``image``, in place."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(image, contours, -1, colour, thickness)


def save(directory: Path, name: str, rgb: RGBImage) -> None:
    """Write one overlay as ``<directory>/<name>.png``."""
    Image.fromarray(rgb).save(directory / f"{name}.png")
