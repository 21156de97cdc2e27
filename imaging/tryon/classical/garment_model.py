"""What the classical engine knows about a garment (its cut-out, category, landmarks and sleeves), and what
each garment category decides (:class:`GarmentCategory`).

Side names follow the wearer, as for the person: ``l_`` is the wearer's own left,
which is on the image's RIGHT for a garment seen from the front.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from imaging.types import Category

from .body import Body
from .warp import WarpResult


@dataclass
class Sleeve:
    """One sleeve, as a centre line from the shoulder to the cuff, in garment pixels."""

    shoulder: np.ndarray  # (2,) where the sleeve leaves the torso (top of the arm hole)
    cuff: np.ndarray  # (2,) centre of the sleeve's end
    half_width: float  # half width of the sleeve's opening (cuff), across its axis
    mask: np.ndarray  # HxW bool: the sleeve's pixels
    root_half_width: float = 0.0  # half width of the sleeve's first stretch, across its axis (0: unknown)

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.cuff - self.shoulder))


@dataclass
class Outline:
    """A garment's landmarks measured on its silhouette, by its category's rules, in silhouette pixels."""

    landmarks: dict[str, np.ndarray]  # name -> (2,) float32 (x, y)
    sleeves: dict[str, Sleeve]  # "l" / "r", only those found
    torso: np.ndarray  # HxW bool: the garment without its sleeves


@dataclass
class GarmentAnalysis:
    rgb: np.ndarray  # HxWx3 uint8, cropped around the garment
    alpha: np.ndarray  # HxW float32 0..1
    category: Category
    landmarks: dict[str, np.ndarray]  # name -> (2,) float32 (x, y) in rgb's pixels
    sleeves: dict[str, Sleeve] = field(default_factory=dict)  # "l" / "r", only those found
    torso_mask: np.ndarray | None = None  # HxW bool: the garment without its sleeves
    cutout_method: str = ""

    @property
    def mask(self) -> np.ndarray:
        return self.alpha > 0.5


def point(landmarks: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A garment landmark as float64 (x, y)."""
    return np.asarray(landmarks[name], np.float64)


@dataclass
class Layering:
    """What stays in front of the new garment, as feathered alphas over the composition's box."""

    over_body_piece: np.ndarray  # HxW float32: in front of the piece on the trunk or legs (a top's torso)
    over_other_pieces: np.ndarray  # HxW float32: in front of the other pieces (sleeves)


class GarmentCategory(Protocol):
    """How the classical engine handles one garment category, from its landmarks to what it replaces.

    One module per category implements it (``categories/``); the pipeline's stages
    ask it instead of branching on the category's name.
    """

    category: Category
    # The piece that lies on the trunk or the legs (behind the arms); the others are sleeves.
    body_piece: str
    # The person's regions that hold the old garment this one replaces.
    replaces: tuple[str, ...]

    def outline(self, silhouette: np.ndarray) -> Outline:
        """Landmarks, sleeves and torso of a garment of this category on its (analysis-size) silhouette."""
        ...

    def fit(self, garment: GarmentAnalysis, body: Body) -> WarpResult:
        """Targets on the body for the garment's landmarks, and the garment's pieces warped onto them."""
        ...

    def in_front(self, regions: dict[str, np.ndarray], body: Body, feather: float) -> Layering:
        """What of the person stays in front of the new garment (head, hands, arms...)."""
        ...

    def join_pieces(
        self, rgb: np.ndarray, pieces: dict[str, np.ndarray], shoulder_width: float
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The warped pieces' colour and alphas with the seams between them closed (or as they are)."""
        ...

    def leftovers(
        self,
        person_rgb: np.ndarray,
        old: np.ndarray,
        regions: dict[str, np.ndarray],
        alpha: np.ndarray,
        body: Body,
    ) -> np.ndarray:
        """Pieces of the old garment outside ``old`` that must go too (a strap left on the shoulder)."""
        ...

    def uncovered(
        self,
        person_rgb: np.ndarray,
        revealed: np.ndarray,
        pieces: dict[str, np.ndarray],
        regions: dict[str, np.ndarray],
        body: Body,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Of the old garment the new one leaves uncovered: (what must be filled, the part of it that is skin)."""
        ...
