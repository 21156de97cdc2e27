"""What a client written to the seed page may send: common
category names, ``options: null``, ``format: "jpeg"``, unknown option keys and fields the style does not
use (accepted, and named in the 202 body's ``warnings``), chunked bodies, and what a 401 carries."""

from __future__ import annotations

import io
import json

import pytest

from tryon.models import Order

from . import shapes


def post(api, body):
    return api.post("/api/v1/generate", body, format="json")


@pytest.mark.parametrize(
    "name,canonical",
    [
        ("dresses", "one-pieces"),
        ("Dress", "one-pieces"),
        ("top", "tops"),
        ("pants", "bottoms"),
        ("trousers", "bottoms"),
        ("skirt", "bottoms"),
        ("upper_body", "tops"),
        ("one-pieces", "one-pieces"),
    ],
)
def test_category_aliases(api, tryon_body, name, canonical):
    response = post(api, {**tryon_body, "options": {"category": name}})
    assert response.status_code == 202, response.content
    assert Order.objects.get(pk=response.json()["order_id"]).options["category"] == canonical


def test_unknown_category_still_refused(api, tryon_body):
    response = post(api, {**tryon_body, "options": {"category": "hats"}})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_REQUEST"


def test_options_null_is_absent(api, tryon_body):
    response = post(api, {**tryon_body, "options": None})
    assert response.status_code == 202, response.content
    shapes.check(response.json(), shapes.ACCEPTED)  # no warnings: nothing was ignored
    assert Order.objects.get(pk=response.json()["order_id"]).options == {
        "quality": "high",
        "format": "jpg",
        "category": "auto",
    }


@pytest.mark.parametrize("value", ["jpeg", "JPEG", "jpg"])
def test_format_jpeg_is_jpg(api, tryon_body, value):
    response = post(api, {**tryon_body, "options": {"format": value}})
    assert response.status_code == 202, response.content
    assert Order.objects.get(pk=response.json()["order_id"]).options["format"] == "jpg"


def test_unknown_option_keys_are_ignored_and_listed(api, tryon_body):
    response = post(api, {**tryon_body, "options": {"quality": "standard", "seed": 42, "guidance": 2.5}})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["warnings"] == [
        "options.guidance is not an option of this service and was ignored.",
        "options.seed is not an option of this service and was ignored.",
    ]
    assert Order.objects.get(pk=body["order_id"]).options["quality"] == "standard"


def test_fields_the_style_does_not_use_are_warned(api, tryon_body, catalog_body):
    """Quantity on a try-on, options.category on a catalog were silently ignored."""
    tryon = post(api, {**tryon_body, "quantity": 7}).json()
    assert tryon["warnings"] == ["quantity is not used by style virtual_tryon and was ignored."]
    Order.objects.update(status="completed")  # one order at a time
    catalog = post(api, {**catalog_body, "options": {"category": "tops"}}).json()
    assert catalog["warnings"] == ["options.category is not used by style product_catalog and was ignored."]
    assert "category" not in Order.objects.get(pk=catalog["order_id"]).options


def test_multipart_unknown_option_warned(api):
    from .conftest import image_bytes

    response = api.post(
        "/api/v1/generate",
        {
            "style": "virtual_tryon",
            "person_image": io.BytesIO(image_bytes(320, 480, seed=1)),
            "clothing_image": io.BytesIO(image_bytes(300, 300, seed=2)),
            "options": json.dumps({"format": "jpeg", "strength": 1}),
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["warnings"] == ["options.strength is not an option of this service and was ignored."]


def wsgi_app():
    """Ftmv.wsgi's middleware around Django's test handler (the real handler closes the test database)."""
    from django.test.client import ClientHandler

    from core.chunked import ChunkedBodyMiddleware
    from ftmv import wsgi

    assert isinstance(wsgi.application, ChunkedBodyMiddleware)  # what gunicorn serves

    def django_app(environ, start_response):
        response = ClientHandler()(environ)
        start_response(f"{response.status_code} X", list(response.items()))
        return [response.content]

    return ChunkedBodyMiddleware(django_app)


def test_chunked_body_read_in_full(owner, tryon_body):
    """Gunicorn hands a chunked body decoded, with no CONTENT_LENGTH: Django alone read it as empty."""
    application = wsgi_app()

    _, key = owner
    raw = json.dumps(tryon_body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/generate",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": io.StringIO(),
        "wsgi.input_terminated": True,
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
    }
    status = []
    body = b"".join(application(environ, lambda s, h, *a: status.append(s)))
    assert status[0].startswith("202"), body
    assert json.loads(body)["success"] is True


def test_chunked_body_over_the_limit(owner, settings):
    application = wsgi_app()

    settings.API_MAX_REQUEST_BYTES = 1000
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/generate",
        "wsgi.input": io.BytesIO(b"x" * 5000),
        "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked",
    }
    status = []
    body = b"".join(application(environ, lambda s, h, *a: status.append(s)))
    assert status[0].startswith("413")
    shapes.check(json.loads(body), shapes.error("PAYLOAD_TOO_LARGE"))


def test_401_carries_no_rate_limit_headers_and_says_so(db, client):
    """Decision (documented in the schema): X-RateLimit-* describe an account's generate budget; a request
    without a valid key names no account, so a 401 carries none."""
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/account", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401
    assert not any(h.lower().startswith("x-ratelimit") for h in response.headers)
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json").content.decode()
    assert "401 responses carry no X-RateLimit" in schema
