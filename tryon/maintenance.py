"""Periodic housekeeping (beat, default queue): the worker imports this module (CELERY_IMPORTS)."""

from celery import shared_task

from .services import orders_fail_stuck, orders_purge_media


@shared_task(name="tryon.maintenance.fail_stuck_orders")
def fail_stuck_orders() -> int:
    return orders_fail_stuck()


@shared_task(name="tryon.maintenance.purge_old_media")
def purge_old_media() -> int:
    return orders_purge_media()
