"""One place that maps an order to its pipeline: the catalog pipeline, or the try-on engine that
TRYON_ENGINE selects (imaging.tryon.engines). The pipelines' heavy modules load only when an order runs,
so the web process never loads them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings

from imaging.errors import PipelineError
from imaging.progress import ProgressCallback
from imaging.tryon.engines import AUTO, EngineUnavailable, TryonEngine, TryonRequest, select_engine

from .models import Order

logger = logging.getLogger(__name__)


@dataclass
class PipelineOutput:
    images: list[tuple[str, np.ndarray]]  # (name, RGB uint8)
    timings: dict = field(default_factory=dict)
    description: str = ""
    info: dict = field(default_factory=dict)


def tryon_engine() -> TryonEngine:
    """The try-on engine TRYON_ENGINE selects in this process (EngineUnavailable, or PipelineError for a
    name no engine is registered under, when it cannot run)."""
    return select_engine(settings.TRYON_ENGINE)


def run_order_pipeline(order: Order, inputs: dict[str, np.ndarray], progress: ProgressCallback) -> PipelineOutput:
    quality = order.options.get("quality", "high")
    if order.style == Order.Style.PRODUCT_CATALOG:
        from imaging.catalog.engine import run_catalog

        assert order.quantity is not None  # a catalog order always has one (tryon.order_request)
        catalog = run_catalog(inputs["product"], order.quantity, quality=quality, progress=progress)
        return PipelineOutput(
            list(zip(catalog.names, catalog.images, strict=True)),
            dict(catalog.timings),
            catalog.description,
            {"cutout_method": catalog.cutout_method},
        )
    engine = tryon_engine()
    request = TryonRequest(
        person=inputs["person"],
        garment=inputs["clothing"],
        category=order.options.get("category", "auto"),
        quality=quality,
    )
    result = engine.run(request, progress=progress)
    info: dict[str, Any] = {**result.info, "category": result.category, "engine": engine.name}
    return PipelineOutput([("result", result.image)], dict(result.timings), "", info)


def check_engine_for_worker(queues: set[str]) -> None:
    """At a worker's start: a worker that takes try-on orders (the images queue) must be able to run the
    configured engine. A named engine that cannot run stops the worker with the reason (SystemExit: a
    Celery signal handler's other exceptions are only logged); ``auto`` logs which engine it picked."""
    if settings.CELERY_IMAGE_QUEUE not in queues:
        return  # the housekeeping worker never runs a pipeline
    try:
        engine = tryon_engine()
    except (EngineUnavailable, PipelineError) as exc:
        reason = exc.message if isinstance(exc, PipelineError) else str(exc)
        logger.critical(
            "TRYON_ENGINE=%s cannot run here: %s. The worker does not start.", settings.TRYON_ENGINE, reason
        )
        raise SystemExit(1) from exc
    if settings.TRYON_ENGINE == AUTO:
        logger.info("TRYON_ENGINE=auto picked the %s try-on engine: %s", engine.name, engine.describe())
    else:
        logger.info("try-on engine %s: %s", engine.name, engine.describe())
