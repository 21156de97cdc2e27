"""The seed page's own Python example, run unchanged but for the base URL and key, against a live
server with a real Celery worker process on the embedded broker, to `completed`; then the result
is downloaded and checked to be an image."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests
from django.core.cache import cache
from PIL import Image
from skimage import data as skdata

from accounts.models import User
from accounts.services import apikey_create
from billing.services import credits_balance, credits_grant
from tryon.models import Order

SEED = Path(__file__).parent / "seed"
SEED_EXAMPLE = (SEED / "seed_python_example.py.txt").read_text()
SEED_JS_EXAMPLE = (SEED / "seed_js_example.js.txt").read_text()
SEED_JS_MODULES = SEED / "js" / "node_modules"  # node-fetch 2, installed by `npm ci --prefix tests/api/seed/js`

pytestmark = [pytest.mark.worker]


def write_inputs(folder: Path) -> tuple[Path, Path]:
    person = folder / "person.jpg"
    Image.fromarray(skdata.astronaut()).save(person, quality=92)  # a real photo of a person, shipped by scikit-image
    garment = np.full((600, 600, 3), 255, np.uint8)  # a drawn T-shirt on a white product background
    shirt = np.array(
        [
            [180, 80],
            [250, 60],
            [350, 60],
            [420, 80],
            [560, 200],
            [500, 260],
            [440, 210],
            [440, 540],
            [160, 540],
            [160, 210],
            [100, 260],
            [40, 200],
        ],
        np.int32,
    )
    cv2.fillPoly(garment, [shirt], (30, 60, 200))
    clothing = folder / "clothing.jpg"
    Image.fromarray(garment).save(clothing, quality=92)
    return person, clothing


def test_seed_python_example_runs_to_completion(live_server, celery_worker, tmp_path):
    cache.clear()
    user = User.objects.create_user(email="seed@example.com")
    credits_grant(user, 5, reason="test")
    _, api_key = apikey_create(user=user, name="seed")
    person, clothing = write_inputs(tmp_path)

    namespace: dict = {}
    exec(SEED_EXAMPLE.replace("https://ftmvai.com", live_server.url), namespace)  # noqa: S102 - the seed's code
    started = time.monotonic()
    order = namespace["generate_virtual_tryon"](str(person), str(clothing), api_key=api_key)
    assert order["status"] == "completed", order
    assert time.monotonic() - started < 240

    response = requests.get(order["results"]["result_url"], timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
    result = Image.open(io.BytesIO(response.content))
    result.load()
    assert result.format == "JPEG" and min(result.size) >= 64
    for key in ("person_url", "clothing_url"):
        assert requests.get(order["results"][key], timeout=30).status_code == 200

    saved = Order.objects.get(pk=order["id"])
    assert saved.progress == 100 and saved.timings  # the worker reported stages and timings
    assert saved.timings["category"] == "tops"  # the real try-on engine classified the drawn T-shirt


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js for the seed page's JavaScript example")
def test_seed_javascript_example_runs_to_completion(live_server, celery_worker, tmp_path):
    """The page's Node.js example (node-fetch, base64 JSON, polling every 5 s), unchanged but for the
    base URL, the key and the two file paths of its usage line."""
    if not (SEED_JS_MODULES / "node-fetch").is_dir():
        pytest.skip("node-fetch is not installed: npm ci --prefix tests/api/seed/js")
    cache.clear()
    user = User.objects.create_user(email="seed-js@example.com")
    credits_grant(user, 5, reason="test")
    _, api_key = apikey_create(user=user, name="seed-js")
    person, clothing = write_inputs(tmp_path)
    script = (
        SEED_JS_EXAMPLE.replace("https://ftmvai.com", live_server.url)
        .replace("YOUR_API_KEY", api_key)
        .replace("./path/to/person.jpg", str(person))
        .replace("./path/to/clothing.jpg", str(clothing))
    )
    path = SEED / "js" / f"seed-{tmp_path.name}.js"  # beside node_modules, so require('node-fetch') resolves
    path.write_text(script)
    try:
        run = subprocess.run(["node", str(path)], capture_output=True, text=True, timeout=240)
    finally:
        path.unlink()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Virtual try-on generated successfully!" in run.stdout and "Done!" in run.stdout, run.stdout + run.stderr
    order = Order.objects.get(user=user)
    assert order.status == Order.Status.COMPLETED
    assert f"Result: {live_server.url}/media/" in run.stdout
    assert credits_balance(user) == 4
    account = requests.get(
        f"{live_server.url}/api/v1/account", headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    ).json()
    assert account["account"]["credits_remaining"] == 4 and account["account"]["api_calls_total"] == 1


def test_catalog_flow_live(live_server, celery_worker, tmp_path):
    cache.clear()
    user = User.objects.create_user(email="catalog@example.com", plan="paid")
    credits_grant(user, 30, reason="test")
    _, api_key = apikey_create(user=user)
    headers = {"Authorization": f"Bearer {api_key}"}
    product = np.full((500, 500, 3), 250, np.uint8)  # a drawn mug on a plain background
    cv2.rectangle(product, (170, 140), (330, 380), (40, 90, 170), -1)
    cv2.ellipse(product, (330, 260), (60, 70), 0, -90, 90, (40, 90, 170), 18)
    buffer = io.BytesIO()
    Image.fromarray(product).save(buffer, "PNG")
    import base64

    body = {
        "style": "product_catalog",
        "quantity": 6,
        "options": {"quality": "standard", "format": "png"},
        "product_image": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(),
    }
    accepted = requests.post(f"{live_server.url}/api/v1/generate", json=body, headers=headers, timeout=30)
    assert accepted.status_code == 202, accepted.text
    order_id = accepted.json()["order_id"]
    deadline = time.monotonic() + 240
    seen_progress = set()
    while time.monotonic() < deadline:
        order = requests.get(f"{live_server.url}/api/v1/orders/{order_id}", headers=headers, timeout=30).json()["order"]
        if order["status"] in ("completed", "failed"):
            break
        seen_progress.add(order["progress"])
        time.sleep(0.5)
    assert order["status"] == "completed", order
    results = order["results"]
    assert len(results["catalog_images"]) == 6 and results["product_description"]
    for url in results["catalog_images"]:
        image = requests.get(url, timeout=30)
        assert image.headers["Content-Type"] == "image/png"
        Image.open(io.BytesIO(image.content)).verify()
    assert credits_balance(user) == 6
    assert len(seen_progress) >= 1 and Order.objects.get(pk=order_id).timings.get("cutout_method")
