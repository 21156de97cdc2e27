"""GET /healthz: is every part this service needs usable right now?"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from imaging import onnx_runtime as onnx
from imaging.tryon.engines import select_engine

from .models import WorkerHeartbeat


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_broker() -> dict:
    # The project's Celery app (ftmv.celery, made current when the ftmv package loads), reached without
    # importing the project package: core sits below it.
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
        return {"transport": conn.transport_cls}


def check_storage() -> dict:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as f:
            if f.read() != b"ok":
                raise OSError("storage returned different bytes")
    finally:
        default_storage.delete(name)
    return {"backend": type(default_storage._wrapped).__name__}  # type: ignore[attr-defined]  # the lazy object's target


def check_onnx() -> dict:
    info = onnx.runtime_info()
    if not info["available_providers"]:
        raise RuntimeError("no ONNX Runtime execution provider available")
    return info


def check_tryon_engine() -> dict:
    """The engine TRYON_ENGINE selects here, and what it says about itself; EngineUnavailable says why not."""
    engine = select_engine(settings.TRYON_ENGINE)
    return {"setting": settings.TRYON_ENGINE, "name": engine.name, "describe": engine.describe()}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
    "onnx": check_onnx,
    "tryon_engine": check_tryon_engine,
}


def worker_state() -> dict:
    """The last heartbeat a worker wrote (informational: a web node may run without a local worker)."""
    try:
        beat = WorkerHeartbeat.objects.first()
    except Exception:  # noqa: BLE001 - the database check reports the cause
        return {"last_heartbeat": None}
    if beat is None:
        return {"last_heartbeat": None}
    return {
        "last_heartbeat": beat.seen_at.isoformat(),
        "seconds_ago": round((timezone.now() - beat.seen_at).total_seconds()),
        "hostname": beat.hostname,
        "onnx_providers": beat.onnx_providers,
    }


@never_cache
@require_GET
def healthz(request):
    results: dict[str, dict] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            results[name] = {"ok": True, **check()}
        except Exception as exc:  # noqa: BLE001 - any failure makes the part unusable
            healthy = False
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    body = {"status": "ok" if healthy else "unavailable", "checks": results, "worker": worker_state()}
    return JsonResponse(body, status=200 if healthy else 503)
