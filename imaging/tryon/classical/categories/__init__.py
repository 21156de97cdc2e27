"""The garment categories the classical engine handles, one module each, behind :class:`GarmentCategory`.

A new category is one module here (a class implementing the protocol) and one
line in ``CATEGORIES``, plus its tests.
"""

from __future__ import annotations

from imaging.types import Category

from ..body import Body
from ..garment_model import GarmentAnalysis, GarmentCategory
from ..warp import WarpResult
from .bottoms import Bottoms
from .one_pieces import OnePieces
from .tops import Tops

CATEGORIES: dict[Category, GarmentCategory] = {
    Category.TOPS: Tops(),
    Category.BOTTOMS: Bottoms(),
    Category.ONE_PIECES: OnePieces(),
}


def garment_category(category: Category | str) -> GarmentCategory:
    """The handler of a category (by the enum or its API string)."""
    return CATEGORIES[Category(category)]


def fit_garment(garment: GarmentAnalysis, body: Body) -> WarpResult:
    """The garment's pieces warped onto the body, by its category's rules."""
    return garment_category(garment.category).fit(garment, body)
