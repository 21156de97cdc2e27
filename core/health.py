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


# Beat schedules a heartbeat every 30 s: four missed in a row and the workers are taken for gone.
WORKER_STALE_AFTER = 120
NO_WORKER_YET = "no worker yet"
WORKER_STALE = "worker stale"


def worker_state() -> dict:
    """The last heartbeat a worker wrote, and ``state``: "ok", "no worker yet" (none has ever checked in:
    a fresh install whose worker is still starting, or none was started) or "worker stale"."""
    try:
        beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except Exception:  # noqa: BLE001 - the database check reports the cause
        return {"state": NO_WORKER_YET, "last_heartbeat": None}
    if beat is None:
        return {"state": NO_WORKER_YET, "last_heartbeat": None}
    age = (timezone.now() - beat.seen_at).total_seconds()
    return {
        "state": "ok" if age <= WORKER_STALE_AFTER else WORKER_STALE,
        "last_heartbeat": beat.seen_at.isoformat(),
        "seconds_ago": round((timezone.now() - beat.seen_at).total_seconds()),
        "hostname": beat.hostname,
        "onnx_providers": beat.onnx_providers,
    }


def run_checks() -> tuple[bool, dict[str, dict]]:
    results: dict[str, dict] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            results[name] = {"ok": True, **check()}
        except Exception as exc:  # noqa: BLE001 - any failure makes the part unusable
            healthy = False
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return healthy, results


@never_cache
@require_GET
def healthz(request):
    """The web's own health (liveness, what a load balancer asks): 503 only when a part this process needs
    is unusable. ``status`` also says when no worker has checked in yet, or none recently ("no worker yet",
    "worker stale"), still with 200: the web itself is fine, and /readyz is the check that needs a worker."""
    healthy, results = run_checks()
    worker = worker_state()
    status = ("ok" if worker["state"] == "ok" else worker["state"]) if healthy else "unavailable"
    body = {"status": status, "checks": results, "worker": worker}
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
def readyz(request):
    """Readiness: can an order placed now be processed? Every part healthy and a worker seen recently;
    otherwise 503 with the reason (a deploy waits for this before sending traffic)."""
    healthy, results = run_checks()
    worker = worker_state()
    ready = healthy and worker["state"] == "ok"
    reason = "" if ready else ("a part is unavailable" if not healthy else worker["state"])
    body = {"ready": ready, "reason": reason, "checks": results, "worker": worker}
    return JsonResponse(body, status=200 if ready else 503)
