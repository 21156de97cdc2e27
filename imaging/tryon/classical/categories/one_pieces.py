"""One-pieces: dresses and jumpsuits.

Outlined, fitted and composed as a top: the outline's hem is the garment's own
(far below the waist), so its length comes from the garment like a top's does.
"""

from __future__ import annotations

from imaging.types import Category

from .tops import Tops


class OnePieces(Tops):
    category = Category.ONE_PIECES
    replaces_bottoms = True
