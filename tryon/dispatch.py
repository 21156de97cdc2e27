"""One place that maps an order's style to its pipeline (imported lazily: the web process never loads them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imaging.progress import ProgressCallback

from .models import Order


@dataclass
class PipelineOutput:
    images: list[tuple[str, np.ndarray]]  # (name, RGB uint8)
    timings: dict = field(default_factory=dict)
    description: str = ""
    info: dict = field(default_factory=dict)


def run_order_pipeline(order: Order, inputs: dict[str, np.ndarray], progress: ProgressCallback) -> PipelineOutput:
    quality = order.options.get("quality", "high")
    if order.style == Order.Style.PRODUCT_CATALOG:
        from imaging.catalog.engine import run_catalog

        result = run_catalog(inputs["product"], order.quantity, quality=quality, progress=progress)
        return PipelineOutput(
            list(zip(result.names, result.images, strict=True)),
            dict(result.timings),
            result.description,
            {"cutout_method": result.cutout_method},
        )
    from imaging.tryon.classical.engine import run_tryon

    result = run_tryon(
        inputs["person"],
        inputs["clothing"],
        category=order.options.get("category", "auto"),
        quality=quality,
        progress=progress,
    )
    return PipelineOutput([("result", result.image)], dict(result.timings), "", {"category": result.category})
