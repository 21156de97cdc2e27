"""One place that maps an order's style to its pipeline.

The engines (tryon.pipeline.engine.run_tryon, catalog.pipeline.engine.run_catalog) are being written
in parallel; while a module is missing from the tree, a clearly named PLACEHOLDER runs instead and
says so in the log and in the order's timings. No placeholder may remain once the engines land.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field

import numpy as np

from ftmv.pipeline import QUALITY_LONG_SIDE, ProgressCallback, resize_long_side

from .models import Order

logger = logging.getLogger(__name__)


@dataclass
class PipelineOutput:
    images: list[tuple[str, np.ndarray]]  # (name, RGB uint8)
    timings: dict = field(default_factory=dict)
    description: str = ""
    info: dict = field(default_factory=dict)


@dataclass
class _PlaceholderTryon:
    image: np.ndarray
    timings: dict
    category: str
    edited_mask: np.ndarray | None = None


@dataclass
class _PlaceholderCatalog:
    images: list[np.ndarray]
    names: list[str]
    description: str
    cutout_method: str
    timings: dict


def placeholder_tryon(person_rgb, garment_rgb, *, category="auto", quality="high", progress=None, debug_dir=None):
    """PLACEHOLDER until tryon.pipeline.engine lands: returns the person photo untouched."""
    if progress:
        progress("placeholder", 50)
    return _PlaceholderTryon(resize_long_side(person_rgb, QUALITY_LONG_SIDE[quality]), {"placeholder": 0.0}, category)


def placeholder_catalog(rgb, quantity, *, quality="high", progress=None, debug_dir=None):
    """PLACEHOLDER until catalog.pipeline.engine lands: returns the product photo ``quantity`` times."""
    if progress:
        progress("placeholder", 50)
    image = resize_long_side(rgb, QUALITY_LONG_SIDE[quality])
    return _PlaceholderCatalog(
        [image] * quantity,
        [f"placeholder_{i + 1}" for i in range(quantity)],
        "placeholder: product photo unchanged",
        "placeholder",
        {"placeholder": 0.0},
    )


def _engine(module: str, name: str, placeholder):
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise  # the engine exists but one of its own imports is missing: a real error
        logger.warning("PLACEHOLDER pipeline in use: %s is not in the tree yet", module)
        return placeholder


def run_order_pipeline(order: Order, inputs: dict[str, np.ndarray], progress: ProgressCallback) -> PipelineOutput:
    quality = order.options.get("quality", "high")
    if order.style == Order.Style.PRODUCT_CATALOG:
        run_catalog = _engine("catalog.pipeline.engine", "run_catalog", placeholder_catalog)
        result = run_catalog(inputs["product"], order.quantity, quality=quality, progress=progress)
        return PipelineOutput(
            list(zip(result.names, result.images, strict=True)),
            dict(result.timings),
            result.description,
            {"cutout_method": result.cutout_method},
        )
    run_tryon = _engine("tryon.pipeline.engine", "run_tryon", placeholder_tryon)
    result = run_tryon(
        inputs["person"],
        inputs["clothing"],
        category=order.options.get("category", "auto"),
        quality=quality,
        progress=progress,
    )
    return PipelineOutput([("result", result.image)], dict(result.timings), "", {"category": result.category})
