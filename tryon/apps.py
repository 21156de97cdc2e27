from django.apps import AppConfig


class TryonConfig(AppConfig):
    """The order domain: orders of both styles, their submission, lifecycle, tasks and webhooks."""

    name = "tryon"

    def ready(self) -> None:
        from celery.signals import worker_init
        from django.conf import settings

        from imaging.tryon import fashn_vton

        # After core's ONNX Runtime set-up (core is listed first): `auto` prefers the learned engine
        # only where the configured providers offer CUDA.
        fashn_vton.configure(bundle_dir=settings.FASHN_VTON_DIR or None, precision=settings.FASHN_VTON_PRECISION)

        worker_init.connect(_check_engine, weak=False, dispatch_uid="tryon.check_engine")


def _check_engine(sender, **kwargs) -> None:
    from .dispatch import check_engine_for_worker

    queues = sender.app.amqp.queues
    selected = queues.consume_from if queues.consume_from is not None else queues
    check_engine_for_worker(set(selected))
