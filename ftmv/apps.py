from django.apps import AppConfig


class FtmvConfig(AppConfig):
    """Cross-app infrastructure: worker heartbeats, health checks, the ONNX runtime setup."""

    name = "ftmv"
    verbose_name = "ftmv infrastructure"

    def ready(self) -> None:
        from django.conf import settings

        from imaging import onnx_runtime as onnx

        onnx.configure(providers=settings.ONNX_PROVIDERS, intra_op_threads=settings.ONNX_THREADS)
