"""Housekeeping tasks on the default queue."""

import os
import socket
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from imaging import onnx_runtime as onnx

from .counters import counters_purge
from .models import WorkerHeartbeat

HEARTBEATS_KEPT = timedelta(hours=1)


# The name it had when it lived in ftmv/: beat schedules and queued messages refer to it.
@shared_task(name="ftmv.tasks.heartbeat")
def heartbeat(token: str = "") -> int:
    """Record that a worker is alive and consuming; old beats and expired rate-limit counters are pruned."""
    beat = WorkerHeartbeat.objects.create(
        hostname=socket.gethostname(), pid=os.getpid(), token=token, onnx_providers=onnx.available_providers()
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - HEARTBEATS_KEPT).delete()
    counters_purge()
    return beat.pk
