from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-app infrastructure: worker heartbeats, /healthz, security headers, the ONNX Runtime set-up.

    The label stays "ftmv", the label these models had when they lived in the project package: the
    heartbeat table (ftmv_workerheartbeat) and its migration history ("ftmv", "0001_initial") are
    then those of every existing database, and no migration is renamed or added.
    """

    name = "core"
    label = "ftmv"
    verbose_name = "ftmv infrastructure"

    def ready(self) -> None:
        from django.conf import settings

        from imaging import onnx_runtime as onnx

        onnx.configure(providers=settings.ONNX_PROVIDERS, intra_op_threads=settings.ONNX_THREADS)

        from celery.signals import worker_init

        worker_init.connect(_serve_host_metrics, weak=False, dispatch_uid="core.serve_host_metrics")


def _serve_host_metrics(**kwargs) -> None:
    from django.conf import settings

    from .metrics import serve_host_metrics

    if settings.WORKER_METRICS_PORT:
        serve_host_metrics(settings.WORKER_METRICS_PORT, settings.WORKER_METRICS_BIND)
