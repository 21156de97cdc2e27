"""Periodic housekeeping (beat, default queue)."""

from celery import shared_task


@shared_task(name="tryon.maintenance.fail_stuck_orders")
def fail_stuck_orders() -> int:
    from .services import orders_fail_stuck

    return orders_fail_stuck()


@shared_task(name="tryon.maintenance.purge_old_media")
def purge_old_media() -> int:
    from .services import orders_purge_media

    return orders_purge_media()
