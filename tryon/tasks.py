"""The order task on the images queue (CELERY_TASK_ROUTES sends tryon.tasks.* there): decode the photos,
run the order's pipeline through tryon.dispatch, store the results. The default queue's tasks (webhooks,
housekeeping) are in tryon.webhooks and tryon.maintenance, which the worker imports (CELERY_IMPORTS)."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_shutting_down
from celery.worker import state as worker_state
from django.conf import settings
from django.db import DatabaseError

from core.logs import order_context
from core.metrics import STAGE_SECONDS
from core.storage import STORAGE_ERRORS
from imaging.errors import PipelineCannotProcess, PipelineError
from imaging.image_io import encode_image, load_rgb
from imaging.stages import Stage

from .dispatch import run_order_pipeline
from .lifecycle import (
    StorageFailed,
    order_complete,
    order_fail,
    order_progress,
    order_return_to_queue,
    order_start,
)
from .models import Order, OrderFile

logger = logging.getLogger(__name__)

INPUT_ROLES = (OrderFile.Role.PERSON, OrderFile.Role.CLOTHING, OrderFile.Role.PRODUCT)


@shared_task(name="tryon.tasks.process_order")
def process_order(order_id: int) -> None:
    """Run the order's pipeline, reporting each stage, and store the encoded results."""
    with order_context(order_id):
        _process(order_id)


def _process(order_id: int) -> None:
    order = order_start(order_id)
    if order is None:
        return
    started = time.monotonic()
    try:
        inputs = {}
        for record in order.files.filter(role__in=INPUT_ROLES):
            inputs[record.role] = load_rgb(_read_input(record))
        stages: list[str] = []

        def progress(stage: str, percent: int) -> None:
            order_progress(order_id, stage, percent)
            # One line per stage reached: some stages report many steps (the learned engine's sampling).
            if not stages or stages[-1] != stage:
                stages.append(stage)
                logger.info("order %s: stage %s (%s%%)", order_id, stage, percent, extra={"stage": stage})

        progress(Stage.DECODED, 2)

        output = run_order_pipeline(order, inputs, progress)
        fmt = order.options.get("format", "jpg")
        role = OrderFile.Role.CATALOG if order.style == Order.Style.PRODUCT_CATALOG else OrderFile.Role.RESULT
        encode_start = time.monotonic()
        results = [(role, name, encode_image(rgb, fmt), rgb.shape[1], rgb.shape[0]) for name, rgb in output.images]
        timings = {
            **output.timings,
            **output.info,
            "encode": round(time.monotonic() - encode_start, 3),
            "task_total": round(time.monotonic() - started, 3),
        }
        if order_complete(order_id, results=results, timings=timings, product_description=output.description):
            _observe_stages(output.info.get("engine", "catalog"), timings)
    except PipelineCannotProcess as exc:
        # Deterministic: never "please retry". Logged with what reproduces it (the stored inputs are kept
        # until MEDIA_RETENTION_DAYS; the options and the engine are what the pipeline was run with).
        logger.error(
            "order %s: pipeline cannot process its inputs (%s); style=%s options=%s TRYON_ENGINE=%s inputs=%s",
            order_id,
            exc.detail,
            order.style,
            order.options,
            settings.TRYON_ENGINE,
            {r.role: (r.file.name, r.width, r.height) for r in order.files.filter(role__in=INPUT_ROLES)},
            exc_info=exc,
        )
        order_fail(order_id, code=exc.code, message=exc.message)
    except PipelineError as exc:
        order_fail(order_id, code=exc.code, message=exc.message)
    except DatabaseError:
        logger.exception("order %s: database error", order_id)
        try:
            order_fail(
                order_id,
                code="DATABASE_ERROR",
                message="A temporary database problem stopped processing; your credits were refunded. Please retry.",
            )
        except DatabaseError:
            # Still unreachable: the order stays in progress and the stuck-order sweep resolves it later.
            logger.exception("order %s: could not record the failure", order_id)
    except StorageFailed:
        # Reading the photos or writing the results failed (order_complete removed what it had written).
        logger.exception("order %s: storage error", order_id)
        order_fail(
            order_id,
            code="STORAGE_ERROR",
            message="Storing the images failed on our side; your credits were refunded. Please retry.",
        )
    except SoftTimeLimitExceeded:
        order_fail(
            order_id,
            code="PROCESSING_TIMEOUT",
            message="Processing took too long and was stopped; your credits were refunded. "
            "Try a smaller photo or quality 'standard'.",
        )
    except Exception:
        logger.exception("order %s failed unexpectedly", order_id)
        order_fail(
            order_id,
            code="PROCESSING_FAILED",
            message="Processing failed unexpectedly; your credits were refunded. Please retry.",
        )


def _observe_stages(engine: str, timings: dict) -> None:
    """Stage durations of a completed order, per engine (the catalog pipeline counts as one): the numbers
    among its timings (the pipeline's stages and total, encoding, the whole task)."""
    for stage, seconds in timings.items():
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            STAGE_SECONDS.labels(engine, stage).observe(seconds)


def _read_input(record: OrderFile) -> bytes:
    try:
        with record.file.open("rb") as f:
            return f.read()
    except STORAGE_ERRORS as exc:
        raise StorageFailed(f"could not read {record.file.name}") from exc


@worker_shutting_down.connect
def _return_orders_in_flight(sig: str = "", how: str = "", exitcode: int = 0, **kwargs) -> None:
    """A worker asked to stop (SIGTERM/SIGINT: Ctrl-C of `make run`, honcho, a deploy) puts the orders it is
    running back in the queue now, with a fresh message: its process manager kills it a few seconds later
    (honcho: 5 s), long before an image finishes, and the embedded broker would not hand the message out
    again. If the attempt still finishes before the kill, the requeued message finds the order done."""
    for request in list(worker_state.active_requests):
        if request.name != process_order.name or not request.args:
            continue
        order_id = int(request.args[0])
        try:
            if order_return_to_queue(order_id):
                process_order.delay(order_id)
                logger.warning("order %s interrupted by shutdown (%s): returned to the queue", order_id, sig)
        except Exception:  # noqa: BLE001 - shutting down: the stuck-order sweep remains the safety net
            logger.exception("order %s: could not return it to the queue at shutdown", order_id)
