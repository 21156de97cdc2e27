"""The bad-input table: each row gives its documented status and code, charges nothing, creates nothing."""

from __future__ import annotations

import base64
import os
import struct
import zlib

import pytest
from PIL import Image

from billing.models import CreditEntry
from billing.services import credits_balance
from tryon.models import Order, OrderFile

from .conftest import b64, image_bytes


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with a tiny body: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def tryon(**changes) -> dict:
    body = {
        "style": "virtual_tryon",
        "person_image": b64(image_bytes(320, 480, seed=1)),
        "clothing_image": b64(image_bytes(300, 300, seed=2)),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post_json(api, body):
    return api.post("/api/v1/generate", body, format="json")


def post_raw(api, raw: bytes, content_type="application/json"):
    return api.generic("POST", "/api/v1/generate", raw, content_type=content_type)


ROWS = {
    "missing fields": (lambda api: post_json(api, {}), 400, "INVALID_REQUEST"),
    "missing clothing_image": (lambda api: post_json(api, tryon(clothing_image=None)), 400, "INVALID_REQUEST"),
    "missing product_image": (
        lambda api: post_json(api, {"style": "product_catalog", "quantity": 6}),
        400,
        "INVALID_REQUEST",
    ),
    "wrong style": (lambda api: post_json(api, tryon(style="cartoon")), 400, "INVALID_REQUEST"),
    "unknown field": (lambda api: post_json(api, tryon(colour="red")), 400, "INVALID_REQUEST"),
    "bad option": (lambda api: post_json(api, tryon(options={"quality": "ultra"})), 400, "INVALID_REQUEST"),
    "quantity 7": (
        lambda api: post_json(
            api, {"style": "product_catalog", "quantity": 7, "product_image": b64(image_bytes(300, 300))}
        ),
        400,
        "INVALID_REQUEST",
    ),
    "non-JSON body": (lambda api: post_raw(api, b"person_image=abc&clothing"), 400, "INVALID_REQUEST"),
    "JSON that is not an object": (lambda api: post_raw(api, b"[1, 2, 3]"), 400, "INVALID_REQUEST"),
    "text/plain body": (lambda api: post_raw(api, b"hello", "text/plain"), 400, "INVALID_REQUEST"),
    "invalid base64": (lambda api: post_json(api, tryon(person_image="this is not base64!!")), 400, "INVALID_IMAGE"),
    "text file as image": (
        lambda api: post_json(api, tryon(person_image=b64(b"just some text\n" * 50))),
        400,
        "INVALID_IMAGE",
    ),
    "truncated JPEG": (
        lambda api: post_json(api, tryon(person_image=b64(image_bytes(320, 480)[:3000]))),
        400,
        "INVALID_IMAGE",
    ),
    "GIF (unsupported format)": (
        lambda api: post_json(api, tryon(clothing_image=b64(image_bytes(200, 200, fmt="GIF")))),
        400,
        "INVALID_IMAGE",
    ),
    "1x1 image": (
        lambda api: post_json(api, tryon(person_image=b64(image_bytes(1, 1, fmt="PNG")))),
        400,
        "INVALID_IMAGE",
    ),
    "20000x20000 PNG header (bomb)": (
        lambda api: post_json(api, tryon(person_image=b64(png_header_only(20000, 20000)))),
        400,
        "INVALID_IMAGE",
    ),
    "8000x6000 PNG header (over our pixel cap)": (
        lambda api: post_json(api, tryon(person_image=b64(png_header_only(8000, 6000)))),
        400,
        "INVALID_IMAGE",
    ),
    "data: URL that is not base64": (
        lambda api: post_json(api, tryon(person_image="data:image/png,abc")),
        400,
        "INVALID_IMAGE",
    ),
}


@pytest.mark.parametrize("row", list(ROWS), ids=list(ROWS))
def test_bad_input(api, owner, row):
    user, _ = owner
    before = credits_balance(user)
    send, status, code = ROWS[row]
    response = send(api)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code
    assert len(body["error"]["message"]) > 10
    assert credits_balance(user) == before
    assert not Order.objects.exists() and not OrderFile.objects.exists()
    assert not CreditEntry.objects.filter(kind="spend").exists()


def test_body_over_the_limit(api, owner, settings):
    user, _ = owner
    settings.API_MAX_REQUEST_BYTES = 50_000
    response = post_json(api, tryon(person_image=b64(os.urandom(60_000))))
    assert response.status_code == 413 and response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert credits_balance(user) == 100 and not Order.objects.exists()


def test_decoded_image_over_the_limit(api, owner, settings):
    settings.API_MAX_IMAGE_BYTES = 20_000
    response = post_json(api, tryon(person_image=b64(os.urandom(30_000))))
    assert response.status_code == 413 and response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert not Order.objects.exists()


def test_bomb_rejected_without_decoding(api, owner, monkeypatch):
    """The pixel check happens on the header: no decoder ever runs for the bomb."""

    def no_load(self, *args, **kwargs):
        raise AssertionError("decoder ran")

    body = tryon(person_image=b64(png_header_only(20000, 20000)))  # person_image is checked first
    monkeypatch.setattr(Image.Image, "load", no_load)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_load)
    response = post_json(api, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_IMAGE"
    assert "pixels" in response.json()["error"]["message"]


def test_base64_variants_accepted(api, owner):
    jpeg = image_bytes(320, 480, seed=5)
    body = tryon(
        person_image="data:image/jpeg;base64," + base64.b64encode(jpeg).decode(),
        clothing_image=base64.encodebytes(image_bytes(300, 300)).decode(),
    )  # line-wrapped
    response = post_json(api, body)
    assert response.status_code == 202, response.content


# --- inputs that used to answer 500 ------------------------------------------------


@pytest.mark.parametrize("depth", [40, 900, 100_000])
@pytest.mark.parametrize("idempotency_key", ["", "nested-1"])
def test_deeply_nested_json_is_a_400(api, depth, idempotency_key):
    body = "[" * depth + "]" * depth
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = api.post("/api/v1/generate", body, content_type="application/json", **headers)
    assert response.status_code == 400, response.content[:200]
    assert response.json()["error"]["code"] == "INVALID_REQUEST"
    nested_options = '{"options": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    response = api.post("/api/v1/generate", nested_options, content_type="application/json", **headers)
    assert response.status_code == 400, response.content[:200]


def test_deeply_nested_multipart_options_is_a_400(api):
    response = api.post(
        "/api/v1/generate",
        {"person_image": "x", "clothing_image": "y", "options": "[" * 100_000 + "]" * 100_000},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**63), "1" + "0" * 40])
def test_page_far_past_the_end_is_empty(api, page):
    response = api.get(f"/api/v1/orders?page={page}")
    assert response.status_code == 200, response.content[:200]
    assert response.json()["orders"] == [] and response.json()["pagination"]["next"] is None


def test_page_with_thousands_of_digits_is_a_400(api):
    response = api.get("/api/v1/orders?page=" + "9" * 5000)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_REQUEST"
