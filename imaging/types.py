"""Typed basics every pipeline shares: garment categories, image and mask aliases, one bounding-box convention."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

# HxWx3 uint8 RGB.
RGBImage: TypeAlias = npt.NDArray[np.uint8]
# HxW bool: which pixels belong to something.
Mask: TypeAlias = npt.NDArray[np.bool_]
# HxW float32 in [0, 1]: a soft mask (matte, feathered edge, garment coverage).
Alpha: TypeAlias = npt.NDArray[np.float32]


class Category(StrEnum):
    """A garment category, with the strings the API accepts and returns."""

    TOPS = "tops"
    BOTTOMS = "bottoms"
    ONE_PIECES = "one-pieces"


class Box(NamedTuple):
    """An axis-aligned pixel rectangle: x0, y0 inclusive, x1, y1 exclusive (so ``x1 - x0`` is the width).

    The one bounding-box convention of the pipelines; a plain tuple where a tuple is expected.
    """

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        """``image[box.slices]`` is the part of an HxW(x...) array inside the box."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def padded(self, pad: int, height: int, width: int) -> Box:
        """The box grown by ``pad`` pixels on every side, clipped to a height x width image."""
        return Box(max(0, self.x0 - pad), max(0, self.y0 - pad), min(width, self.x1 + pad), min(height, self.y1 + pad))
