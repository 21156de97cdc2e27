"""The foundation: settings, /healthz, and a real worker consuming the configured broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from core.models import WorkerHeartbeat, WorkerPresence
from core.presence import workers_by_queue
from core.tasks import heartbeat
from imaging.tryon import engines
from imaging.tryon.engines import EngineUnavailable

from .conftest import ROOT


def backend_names() -> tuple[str, str]:
    broker = "redis" if settings.CELERY_BROKER_URL.startswith("redis") else "embedded-sqla"
    from django.db import connection

    return connection.vendor, broker


@pytest.mark.django_db
def test_healthz_reports_every_part(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    # No worker has checked in here: said distinctly, still 200; /readyz needs a worker.
    assert body["status"] == "no worker yet" and body["worker"]["state"] == "no worker yet"
    assert set(body["checks"]) == {"database", "broker", "storage", "onnx", "tryon_engine"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "CPUExecutionProvider" in body["checks"]["onnx"]["available_providers"]
    # TRYON_ENGINE=auto here: the engine it picks, and what the engine says about itself.
    engine = body["checks"]["tryon_engine"]
    assert engine["setting"] == "auto" and engine["name"] == "classical"
    assert engine["describe"]["engine"] == "classical" and "providers" in engine["describe"]


class UnavailableEngine:
    name = "unavailable"
    stages = ()

    def check(self) -> None:
        raise EngineUnavailable("weights bundle not found at /nowhere")

    def describe(self) -> dict:
        return {"engine": self.name}

    def run(self, request, *, progress=None, debug_dir=None):
        raise AssertionError("never selected, so never run")


@pytest.mark.django_db
def test_healthz_says_why_the_configured_engine_cannot_run(client, settings, monkeypatch):
    monkeypatch.setitem(engines._factories, "unavailable", UnavailableEngine)
    settings.TRYON_ENGINE = "unavailable"
    response = client.get("/healthz")
    assert response.status_code == 503
    check = response.json()["checks"]["tryon_engine"]
    assert check == {"ok": False, "error": "EngineUnavailable: weights bundle not found at /nowhere"}
    settings.TRYON_ENGINE = "no-such-engine"
    check = client.get("/healthz").json()["checks"]["tryon_engine"]
    assert check["ok"] is False and "Unknown try-on engine 'no-such-engine'" in check["error"]


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    from ftmv.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.worker
def test_a_running_worker_announces_its_queues_and_withdraws_when_it_stops(celery_worker):
    deadline = time.monotonic() + 30
    while not WorkerPresence.objects.filter(pid=celery_worker.pid).exists():
        assert time.monotonic() < deadline, celery_worker.logs()[-3000:]
        time.sleep(0.2)
    row = WorkerPresence.objects.get(pid=celery_worker.pid)
    assert row.node.startswith("test-") and row.queues == "default,images,webhooks"
    assert workers_by_queue() == {"default": 1, "images": 1, "webhooks": 1}
    celery_worker.stop()  # a warm shutdown
    assert not WorkerPresence.objects.filter(pid=celery_worker.pid).exists()


@pytest.mark.worker
def test_real_worker_consumes_from_the_broker_and_writes_to_the_database(celery_worker):
    database, broker = backend_names()
    print(f"worker test on database={database} broker={broker}")  # shown in CI's log with -rA
    token = uuid.uuid4().hex
    heartbeat.delay(token)
    deadline = time.monotonic() + 60
    while not WorkerHeartbeat.objects.filter(token=token).exists():
        assert time.monotonic() < deadline, celery_worker.logs()[-3000:]
        time.sleep(0.2)
    beat = WorkerHeartbeat.objects.get(token=token)
    # Written by the worker process, not by this one.
    assert beat.pid != os.getpid()
    assert "CPUExecutionProvider" in beat.onnx_providers
    # It consumes the images queue: at start it checked the try-on engine and said which one it runs.
    assert "TRYON_ENGINE=auto picked the classical try-on engine" in celery_worker.logs()


def production_env(**extra: str) -> dict[str, str]:
    # Test-only switches (DJANGO_ALLOW_ASYNC_UNSAFE for the browser tests...) are not production.
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({"DJANGO_SETTINGS_MODULE": "ftmv.settings", "DEBUG": "false", **extra})
    return env


def test_production_settings_require_a_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(ALLOWED_HOSTS="example.com"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    env = production_env(SECRET_KEY="x" * 20 + uuid.uuid4().hex * 2, ALLOWED_HOSTS="ftmv.example.com")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_healthz_and_readyz_tell_no_worker_yet_from_a_live_one(client):
    from datetime import timedelta

    from django.utils import timezone

    from core.models import WorkerHeartbeat

    assert client.get("/healthz").json()["status"] == "no worker yet"
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.json()["reason"] == "no worker yet"

    beat = WorkerHeartbeat.objects.create(hostname="h", pid=1, token="", onnx_providers=[])
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True

    WorkerHeartbeat.objects.filter(pk=beat.pk).update(seen_at=timezone.now() - timedelta(minutes=5))
    assert client.get("/healthz").json()["status"] == "worker stale"
    assert client.get("/readyz").status_code == 503
