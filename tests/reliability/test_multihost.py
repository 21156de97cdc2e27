"""Web and image workers on separate "hosts" that share no folder: each process runs in its own working
directory with its own MEDIA_ROOT and var folder, and they meet only through PostgreSQL, Redis and an
S3-compatible server (moto's standalone server on loopback, started here; bench.hosts starts it all).

A try-on order goes from POST through a worker on another host to a result downloaded from the URL the
API gives; a catalog order's zip is downloaded from the web host; a worker on a third host, started while
the others run, takes the next order once the second host is stopped. No host keeps a media file on disk.
"""

from __future__ import annotations

import base64
import io
import os
import time
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.test import Client
from PIL import Image

from bench.hosts import Host, Topology
from ftmv.celery import app as celery_app
from tests.api.conftest import make_user
from tests.conftest import database_url_for_tests
from tests.web.images import person_jpeg, product_png, tshirt_jpeg

SHARED_SERVICES = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        not SHARED_SERVICES,
        reason="multi-host test: hosts meet through PostgreSQL and Redis; set DATABASE_URL and REDIS_URL "
        "(CI's second pass does; the SQLite pass has no server to share)",
    ),
]


@pytest.fixture
def topology(transactional_db, clean_cache, tmp_path):
    # Messages an earlier test left in the shared test broker name orders that are gone: drop them, so that
    # what the workers here run is this test's orders only.
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(settings.CELERY_IMAGE_QUEUE)
    with Topology(
        tmp_path / "hosts",
        database_url=database_url_for_tests(),
        redis_url=os.environ["REDIS_URL"],
        env={"DJANGO_SETTINGS_MODULE": "tests.settings"},
    ) as hosts:
        yield hosts


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def submit(web: Host, key: str, body: dict) -> int:
    response = requests.post(
        f"{web.url}/api/v1/generate", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    assert response.status_code == 202, response.text[:500]
    return response.json()["order_id"]


def completed(topology: Topology, key: str, order_id: int, timeout: float = 150) -> dict:
    """Poll the API until the order finishes; the order JSON of a completed order."""
    web = topology.hosts["host-a"]
    deadline = time.monotonic() + timeout
    order: dict = {}
    while time.monotonic() < deadline:
        response = requests.get(
            f"{web.url}/api/v1/orders/{order_id}", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        order = response.json()["order"]
        if order["status"] in ("completed", "failed"):
            break
        time.sleep(0.5)
    if order.get("status") != "completed":
        logs = "\n".join(f"--- {h.name}\n{h.logs()[-3000:]}" for h in topology.hosts.values())
        raise AssertionError(f"order {order_id} did not complete: {order}\n{logs}")
    return order


def download_signed(topology: Topology, url: str) -> bytes:
    """A result URL is a short-lived signed URL of the private bucket, fetchable with no credentials."""
    parts = urlsplit(url)
    assert url.startswith(topology.s3.endpoint + "/"), url
    query = parse_qs(parts.query)
    assert "X-Amz-Signature" in query and int(query["X-Amz-Expires"][0]) <= 3600, url
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    assert response.headers["Content-Type"] == "image/jpeg", response.headers
    return response.content


def image_format(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return str(image.format)


def processed_by(host: Host, expected: int, timeout: float = 20) -> int:
    """How many orders the worker on ``host`` has run to the end (Celery logs each task it finishes, just
    after the order is completed: waits up to ``timeout`` for ``expected``)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = host.logs().splitlines()
        count = sum(1 for line in lines if "tryon.tasks.process_order[" in line and "succeeded" in line)
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def test_web_and_workers_on_separate_hosts_share_only_database_redis_and_s3(topology):
    owner, key = make_user("multihost@example.com", credits=100, plan="paid")
    web = topology.start_web("host-a")
    worker_b = topology.start_worker("host-b")
    # The web's health check writes, reads back and deletes an object of the bucket (README: "Check it").
    health = requests.get(f"{web.url}/healthz", timeout=60).json()
    assert health["checks"]["storage"] == {"ok": True, "backend": "S3Storage"}, health
    tryon = {
        "person_image": b64(person_jpeg()),
        "clothing_image": b64(tshirt_jpeg()),
        "options": {"quality": "standard"},
    }

    tryon_id = submit(web, key, tryon)
    catalog_id = submit(
        web,
        key,
        {
            "style": "product_catalog",
            "product_image": b64(product_png()),
            "quantity": 6,
            "options": {"quality": "standard"},
        },
    )

    # Try-on: the result and the inputs come from the bucket through the URLs the API gives.
    results = completed(topology, key, tryon_id)["results"]
    assert image_format(download_signed(topology, results["result_url"])) == "JPEG"
    assert image_format(download_signed(topology, results["person_url"])) == "JPEG"

    # Catalog: an image by its URL, and the zip from the web host (built from the bucket and stored there).
    catalog = completed(topology, key, catalog_id)["results"]
    assert len(catalog["catalog_images"]) == 6
    assert image_format(download_signed(topology, catalog["catalog_images"][0])) == "JPEG"
    browser = Client()
    browser.force_login(owner)
    session = {"sessionid": browser.cookies["sessionid"].value}
    response = requests.get(f"{web.url}/orders/{catalog_id}/catalog.zip", cookies=session, timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    images = [name for name in archive.namelist() if name.endswith(".jpg")]
    assert len(images) == 6 and "description.txt" in archive.namelist()
    assert image_format(archive.read(images[0])) == "JPEG"
    assert processed_by(worker_b, 2) == 2

    # A third host joins while the others run; the second host goes away: the third takes the next order.
    worker_c = topology.start_worker("host-c")
    topology.stop("host-b")
    third = completed(topology, key, submit(web, key, tryon))["results"]
    assert image_format(download_signed(topology, third["result_url"])) == "JPEG"
    assert processed_by(worker_c, 1) == 1 and processed_by(worker_b, 2, timeout=0) == 2

    # Everything lives in the bucket, privately; no host wrote a media file to its own disk.
    keys = topology.s3.keys()
    assert {k.split("/")[0] for k in keys} == {"orders", "zips"}
    assert len([k for k in keys if k.startswith("orders/")]) == 3 + 7 + 3
    result_key = urlsplit(results["result_url"]).path.split("/", 2)[2]
    grants = topology.s3.client().get_object_acl(Bucket=topology.s3.bucket, Key=result_key)["Grants"]
    assert not any("AllUsers" in grant["Grantee"].get("URI", "") for grant in grants), grants
    for host in (web, worker_b, worker_c):
        assert host.local_files() == [], (host.name, host.local_files())
