"""Media on S3-compatible storage (django-storages' S3Storage on moto's in-process S3): uploads, results,
thumbnails and catalog zips are written to the bucket and read back from it, result URLs are short-lived
signed URLs, and S3's own errors are handled like a full disk. S3Storage has no local path (its ``.path``
raises NotImplementedError), so every flow here passing shows that none of them needs one."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from moto import mock_aws
from storages.backends.s3 import S3Storage

from billing.services import credits_balance
from tests.api.conftest import make_user
from tests.conftest import ROOT
from tests.web.images import person_jpeg, product_png, tshirt_jpeg
from tryon.archives import catalog_records, catalog_zip_name
from tryon.errors import ServiceUnavailable
from tryon.lifecycle import StorageFailed, order_complete
from tryon.models import Order, OrderFile
from tryon.presenters import order_json
from tryon.services import order_create, orders_purge_media
from tryon.tasks import process_order
from tryon.thumbnails import ensure_thumbnail, thumbnail_name
from tryon.validation import validate_image

pytestmark = pytest.mark.django_db

BUCKET = "ftmv-unit-media"
# AWS itself (moto intercepts it); what the URLs must start with, in path addressing style.
ENDPOINT = "https://s3.amazonaws.com"


def settings_under(env: dict[str, str]) -> dict:
    """The media storage and CSP that ftmv.settings builds from ``env`` (in a fresh interpreter)."""
    code = "import json, ftmv.settings as s; print(json.dumps([s.STORAGES['default'], s.CSP_DEFAULT]))"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CSP_"))}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    storage, csp = json.loads(result.stdout.splitlines()[-1])
    return {"storage": storage, "csp": csp}


@pytest.fixture(scope="module")
def s3_settings() -> dict:
    """STORAGES["default"] as the settings build it for a bucket on AWS (which moto intercepts)."""
    env = {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_QUERYSTRING_EXPIRE": "600",
    }
    return settings_under(env)["storage"]


def s3_storages(storage: dict, bucket: str = BUCKET) -> dict:
    from django.conf import settings

    options = {**storage["OPTIONS"], "bucket_name": bucket}
    return {**settings.STORAGES, "default": {**storage, "OPTIONS": options}}


@pytest.fixture
def bucket(s3_settings):
    """The S3 client of a mocked endpoint whose bucket the default storage writes to."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        with override_settings(STORAGES=s3_storages(s3_settings)):
            yield client


def test_settings_select_private_s3_storage_for_a_custom_endpoint():
    built = settings_under(
        {
            "AWS_STORAGE_BUCKET_NAME": "media",
            "AWS_S3_ENDPOINT_URL": "http://minio.internal:9000",
            "AWS_S3_REGION_NAME": "eu-west-1",
            "AWS_S3_ADDRESSING_STYLE": "path",
            "AWS_LOCATION": "/site-a/",
        }
    )
    assert built["storage"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "media",
            "endpoint_url": "http://minio.internal:9000",
            "region_name": "eu-west-1",
            "addressing_style": "path",
            "signature_version": "s3v4",
            "location": "site-a",
            "querystring_auth": True,
            "querystring_expire": 3600,
            "file_overwrite": False,
            "default_acl": None,
        },
    }
    # The admin's previews come from the endpoint: the Content-Security-Policy allows its origin for images.
    assert "img-src 'self' data: blob: http://minio.internal:9000;" in built["csp"]
    assert settings_under({})["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def tryon_order(user) -> Order:
    images = {
        "person": validate_image(person_jpeg(), "person_image"),
        "clothing": validate_image(tshirt_jpeg(), "clothing_image"),
    }
    order, _ = order_create(
        user=user, style=Order.Style.VIRTUAL_TRYON, images=images, options={"quality": "standard", "format": "jpg"}
    )
    return order


def catalog_order(user) -> Order:
    images = {"product": validate_image(product_png(), "product_image")}
    order, _ = order_create(
        user=user,
        style=Order.Style.PRODUCT_CATALOG,
        images=images,
        quantity=6,
        options={"quality": "standard", "format": "jpg"},
    )
    return order


def test_the_storage_under_test_is_s3_and_has_no_local_path(bucket):
    assert isinstance(default_storage, S3Storage)
    with pytest.raises(NotImplementedError):
        default_storage.path("orders/anything.jpg")


def test_uploads_and_the_worker_results_go_through_the_bucket(bucket, clean_cache):
    user, _ = make_user("s3-tryon@example.com", credits=5)
    order = tryon_order(user)
    uploads = {f.role: f.file.name for f in order.files.all()}
    assert set(keys(bucket)) == set(uploads.values())
    assert bucket.get_object(Bucket=BUCKET, Key=uploads["person"])["Body"].read() == person_jpeg()

    process_order(order.pk)  # the worker's task, reading the photos from the bucket

    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED, (order.error_code, order.error_message)
    result = order.files.get(role=OrderFile.Role.RESULT)
    assert result.file.name in keys(bucket)
    stored = bucket.get_object(Bucket=BUCKET, Key=result.file.name)["Body"].read()
    assert stored[:3] == b"\xff\xd8\xff"
    # The site's download view streams the object from the bucket.
    browser = Client()
    browser.force_login(user)
    download = browser.get(f"/orders/{order.pk}/files/{result.pk}/?download=1")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == stored


def test_api_result_urls_are_short_lived_signed_urls_of_the_bucket(bucket, clean_cache):
    user, _ = make_user("s3-urls@example.com", credits=5)
    order = tryon_order(user)
    order_complete(order.pk, results=[("result", "", b"\xff\xd8\xff result", 64, 64)])
    body = order_json(Order.objects.get(pk=order.pk), "https://ftmv.example")
    for field in ("person_url", "clothing_url", "result_url"):
        url = body["results"][field]
        query = parse_qs(urlsplit(url).query)
        assert url.startswith(f"{ENDPOINT}/{BUCKET}/orders/"), url
        assert query["X-Amz-Expires"] == ["600"] and "X-Amz-Signature" in query, url


def test_thumbnails_and_catalog_zips_are_written_to_the_bucket(bucket, clean_cache):
    user, _ = make_user("s3-catalog@example.com", credits=30)
    order = catalog_order(user)
    images = [("catalog", f"variant_{i}", person_jpeg(), 512, 512) for i in range(6)]
    order_complete(order.pk, results=images, product_description="A blue mug.")
    records = catalog_records(list(order.files.all()))

    thumb = ensure_thumbnail(records[0])
    assert thumb == thumbnail_name(records[0]) and thumb in keys(bucket)

    client = Client()
    client.force_login(user)
    response = client.get(f"/orders/{order.pk}/catalog.zip")
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    zip_key = catalog_zip_name(records)
    assert zip_key.startswith("zips/") and zip_key in keys(bucket)
    assert bucket.get_object(Bucket=BUCKET, Key=zip_key)["Body"].read() == served
    archive = zipfile.ZipFile(io.BytesIO(served))
    assert len([n for n in archive.namelist() if n.endswith(".jpg")]) == 6
    assert archive.read("description.txt") == b"A blue mug.\n"
    # The web pages' thumbnail view reads the stored thumbnail back from the bucket.
    thumb_response = client.get(f"/orders/{order.pk}/thumb/")
    assert thumb_response.status_code == 200
    assert b"".join(thumb_response.streaming_content) == bucket.get_object(Bucket=BUCKET, Key=thumb)["Body"].read()

    # Retention removes every object of the order: photos, results, thumbnail and zip.
    Order.objects.filter(pk=order.pk).update(completed_at=order.created_at.replace(year=2000))
    assert orders_purge_media(days=1) == 1
    assert keys(bucket) == []


def test_local_media_urls_are_not_served_for_s3_keys(bucket, clean_cache):
    user, _ = make_user("s3-media@example.com", credits=5)
    name = tryon_order(user).files.get(role=OrderFile.Role.PERSON).file.name
    assert Client().get(f"/media/{name}").status_code == 404


def test_s3_refusing_an_upload_is_a_503_with_nothing_charged(bucket, s3_settings, clean_cache):
    user, _ = make_user("s3-down@example.com", credits=5)
    with (
        override_settings(STORAGES=s3_storages(s3_settings, bucket="no-such-bucket")),
        pytest.raises(ServiceUnavailable),
    ):
        tryon_order(user)
    assert credits_balance(user) == 5 and not Order.objects.filter(user=user).exists()
    assert keys(bucket) == []


def test_s3_refusing_a_result_fails_the_store_cleanly(bucket, s3_settings, clean_cache):
    user, _ = make_user("s3-results@example.com", credits=5)
    order = tryon_order(user)
    with override_settings(STORAGES=s3_storages(s3_settings, bucket="no-such-bucket")), pytest.raises(StorageFailed):
        order_complete(order.pk, results=[("result", "", b"\xff\xd8\xff result", 64, 64)])
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and not order.files.filter(role=OrderFile.Role.RESULT).exists()


def test_admin_previews_link_to_signed_urls_of_the_bucket(bucket, clean_cache):
    user, _ = make_user("s3-admin@example.com", credits=5)
    order = tryon_order(user)
    staff = type(user).objects.create_superuser(email="s3-staff@example.com", password="pw-for-the-test-only")
    browser = Client()
    browser.force_login(staff)
    page = browser.get("/admin/tryon/order/").content.decode()
    thumb = thumbnail_name(order.files.get(role=OrderFile.Role.PERSON))
    assert f'src="{ENDPOINT}/{BUCKET}/{thumb}?' in page and "X-Amz-Signature=" in page
    assert thumb in keys(bucket)
