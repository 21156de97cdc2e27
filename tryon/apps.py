from django.apps import AppConfig


class TryonConfig(AppConfig):
    """The order domain: orders of both styles, their submission, lifecycle, tasks and webhooks."""

    name = "tryon"

    def ready(self) -> None:
        from celery.signals import worker_init

        worker_init.connect(_check_engine, weak=False, dispatch_uid="tryon.check_engine")


def _check_engine(sender, **kwargs) -> None:
    from .dispatch import check_engine_for_worker

    queues = sender.app.amqp.queues
    selected = queues.consume_from if queues.consume_from is not None else queues
    check_engine_for_worker(set(selected))
