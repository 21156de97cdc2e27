"""The learned engine behind the real order paths: with the committed tiny bundle configured
(TRYON_ENGINE=fashn-vton-1.5, FASHN_VTON_DIR), an order from the API and one from the web form run
on a real worker to `completed`; a corrupt bundle stops the worker at start and /healthz says why."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from imaging.tryon import engines, fashn_vton
from tests.api.conftest import b64, client_for, make_user
from tests.conftest import ROOT, WorkerProcess, run_image_worker_once
from tests.web.images import person_jpeg, tshirt_jpeg
from tryon.models import Order, OrderFile

BUNDLE = ROOT / "tests" / "fixtures" / "fashn-vton-tiny"
ENGINE_ENV = {"TRYON_ENGINE": fashn_vton.NAME, "FASHN_VTON_DIR": str(BUNDLE), "ONNX_THREADS": "1"}


@pytest.fixture
def fashn_worker(transactional_db, tmp_path_factory, clean_cache):
    worker = WorkerProcess(tmp_path_factory.mktemp("fashn-worker") / "worker.log", extra_env=ENGINE_ENV)
    try:
        worker.wait_until_consuming()
        yield worker
    finally:
        worker.stop()


def wait_until_finished(order_id: int, worker: WorkerProcess, timeout: float = 180) -> Order:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        order = Order.objects.get(pk=order_id)
        if order.is_finished:
            return order
        time.sleep(0.3)
    raise AssertionError(f"order {order_id} not finished after {timeout}s; worker log:\n{worker.logs()[-4000:]}")


def assert_completed_on_the_learned_engine(order: Order, worker: WorkerProcess) -> None:
    assert order.status == Order.Status.COMPLETED, (order.error_code, order.error_message, worker.logs()[-3000:])
    assert order.timings["engine"] == fashn_vton.NAME
    assert order.timings["steps"] in (20, 30) and order.timings["provider"] == "CPUExecutionProvider"
    result = order.files.get(role=OrderFile.Role.RESULT)
    person = order.files.get(role=OrderFile.Role.PERSON)
    with result.file.open("rb") as f:
        image = Image.open(f)
        image.load()
    # Pasted back into the person photo at its own resolution.
    assert image.size == (result.width, result.height) == (person.width, person.height)
    assert "engine fashn-vton-1.5" in worker.logs()


@pytest.mark.worker
def test_an_api_order_runs_on_the_learned_engine_to_completed(fashn_worker):
    user, key = make_user("fashn-api@example.com", credits=10, plan="paid")
    body = {
        "style": "virtual_tryon",
        "person_image": b64(person_jpeg()),
        "clothing_image": b64(tshirt_jpeg()),
        "options": {"quality": "standard", "format": "jpg", "category": "tops"},
    }
    response = client_for(key).post("/api/v1/generate", body, format="json")
    assert response.status_code == 202, response.content
    order = wait_until_finished(response.json()["order_id"], fashn_worker)
    assert_completed_on_the_learned_engine(order, fashn_worker)
    assert order.timings["steps"] == 20  # standard quality
    polled = client_for(key).get(f"/api/v1/orders/{order.pk}").json()["order"]
    assert polled["status"] == "completed" and polled["results"]["result_url"].endswith(".jpg")


@pytest.mark.worker
def test_a_web_form_order_runs_on_the_learned_engine_to_completed(fashn_worker):
    user, _ = make_user("fashn-web@example.com", credits=10, plan="paid")
    browser = Client()
    browser.force_login(user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = browser.post(
        reverse("tryon_new"),
        {
            "person_image": SimpleUploadedFile("me.jpg", person_jpeg(), content_type="image/jpeg"),
            "clothing_image": SimpleUploadedFile("shirt.jpg", tshirt_jpeg(), content_type="image/jpeg"),
            "category": "tops",
            "quality": "high",
            "format": "png",
        },
    )
    assert response.status_code == 302, response.content[:500]
    order = wait_until_finished(Order.objects.get(user=user).pk, fashn_worker)
    assert_completed_on_the_learned_engine(order, fashn_worker)
    assert order.timings["steps"] == 30  # high quality


def corrupt_copy(tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    generator = bundle / "generator.onnx"
    data = bytearray(generator.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: same size, wrong sha256
    generator.write_bytes(bytes(data))
    return bundle


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_refuses_to_start_with_a_corrupt_bundle(tmp_path):
    result = run_image_worker_once({"TRYON_ENGINE": fashn_vton.NAME, "FASHN_VTON_DIR": str(corrupt_copy(tmp_path))})
    assert result.returncode != 0
    assert f"TRYON_ENGINE={fashn_vton.NAME} cannot run here" in result.stderr
    assert "sha256" in result.stderr


@pytest.mark.django_db
def test_healthz_reports_a_corrupt_bundle(client, settings, tmp_path):
    settings.TRYON_ENGINE = fashn_vton.NAME
    try:
        fashn_vton.configure(bundle_dir=corrupt_copy(tmp_path))
        response = client.get("/healthz")
        assert response.status_code == 503
        check = response.json()["checks"]["tryon_engine"]
        assert check["ok"] is False and "sha256" in check["error"]

        fashn_vton.configure(bundle_dir=BUNDLE)
        response = client.get("/healthz")
        check = response.json()["checks"]["tryon_engine"]
        assert check["ok"] is True and check["name"] == fashn_vton.NAME
        assert check["describe"]["bundle_ok"] is True
    finally:
        fashn_vton.configure(bundle_dir=settings.FASHN_VTON_DIR or None)
        engines.reset()
