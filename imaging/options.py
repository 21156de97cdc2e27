"""The options a caller may pass to the pipelines, their choices and defaults, in one place.

The API, the web form, the management commands and the engines read them from
here, so a default or a new choice is changed once.
"""

from __future__ import annotations

from imaging.image_io import QUALITY_LONG_SIDE
from imaging.types import Category

AUTO = "auto"

# Garment category: one of the categories, or "auto" to let the engine decide.
CATEGORY_CHOICES: tuple[str, ...] = (AUTO, *(c.value for c in Category))
DEFAULT_CATEGORY = AUTO

# Output quality: the output's long side is capped per quality (see ``image_io.QUALITY_LONG_SIDE``).
QUALITY_CHOICES: tuple[str, ...] = tuple(QUALITY_LONG_SIDE)
DEFAULT_QUALITY = "high"
