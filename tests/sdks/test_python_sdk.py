"""The Python SDK (sdks/python) against a live server with a real Celery worker: both styles to completion
and download, each typed error provoked, idempotent retry, a real webhook delivery verified, the async client."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import ftmv_client
import httpx
import pytest
from ftmv_client import (
    AsyncClient,
    AuthenticationError,
    Base64,
    Client,
    ConcurrencyLimitError,
    InsufficientCreditsError,
    InvalidImageError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ServerError,
    ValidationError,
    WebhookVerificationError,
    verify_webhook,
)
from PIL import Image

from .conftest import PYTHON_SDK, check_image, counted_orders, mug_png, person_jpeg, shirt_jpeg


@pytest.mark.worker
def test_tryon_and_catalog_to_completion(api_base, make_account, sdk_worker, photos, webhook_receiver, tmp_path):
    account = make_account(credits=30, plan="paid")
    client = Client(account.api_key, api_base)

    accepted = client.generate(
        person_image=str(photos["person"]),  # file paths
        clothing_image=photos["clothing"],
        webhook_url=f"{webhook_receiver.url}/hooks/tryon",
    )
    assert accepted.status == "pending" and accepted.credits_used == 1 and accepted.estimated_time
    seen: list[tuple[str, int | None]] = []
    order = client.wait(accepted, timeout=240, on_progress=lambda o: seen.append((o.status, o.progress)))
    assert order.status == "completed" and order.results and order.results.result_url
    assert seen[-1][0] == "completed" and len(seen) >= 2
    assert order.processing_time is not None and order.completed_at is not None
    saved = client.download(order.results.result_url, tmp_path / "out" / "result.jpg")
    check_image(saved.read_bytes(), "JPEG")
    check_image(client.download(order.results.person_url), "JPEG")

    with photos["product"].open("rb") as stream:  # a binary stream
        catalog = client.generate(
            style="product_catalog", product_image=stream, quantity=6, quality="standard", format="png"
        )
    assert catalog.credits_used == 24
    done = client.wait(catalog.order_id, timeout=300)
    assert len(done.results.catalog_images) == 6 and done.results.product_description
    files = client.download_results(done, tmp_path / "catalog")
    assert len(files) == 6 and len({f.name for f in files}) == 6
    for file in files:
        check_image(file.read_bytes(), "PNG")

    info = client.account()
    assert info.account.credits_remaining == 5 and info.account.api_calls_total == 2
    assert client.rate_limit is not None and client.rate_limit.limit == 100 and client.rate_limit.remaining == 98
    listing = client.list_orders(page_size=1)
    assert listing.pagination.total == 2 and [o.id for o in listing.orders] == [done.id]
    assert [o.id for o in client.iter_orders(page_size=1)] == [done.id, order.id]

    # The server's real delivery for the try-on order, verified with the account's signing secret.
    delivery = webhook_receiver.wait_for("/hooks/tryon")
    secret = info.webhook.signing_secret
    event = verify_webhook(delivery.body, delivery.headers["X-Ftmv-Signature"], secret)
    assert event["event"] == "order.completed" and event["order"]["id"] == order.id
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_webhook(delivery.body.replace(b"completed", b"failed"), delivery.headers["X-Ftmv-Signature"], secret)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_webhook(delivery.body, delivery.headers["X-Ftmv-Signature"], "whsec_wrong")
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(delivery.body, delivery.headers["X-Ftmv-Signature"], secret, now=time.time() + 3600)
    client.close()


@pytest.mark.worker
def test_async_client_to_completion(api_base, make_account, sdk_worker, tmp_path):
    account = make_account(credits=5, plan="free")

    async def scenario():
        progress: list[int | None] = []

        async def on_progress(order):
            progress.append(order.progress)

        async with AsyncClient(account.api_key, api_base) as client:
            accepted = await client.generate(
                person_image=Base64(base64.b64encode(person_jpeg()).decode()),  # already-encoded base64
                clothing_image="data:image/jpeg;base64," + base64.b64encode(shirt_jpeg()).decode(),
                quality="standard",
            )
            order = await client.wait(accepted, timeout=240, on_progress=on_progress)
            data = await client.download(order.results.result_url)
            paths = await client.download_results(order, tmp_path)
            account_info = await client.account()
            listed = [o.id async for o in client.iter_orders()]
            return accepted, order, data, paths, account_info, listed, progress

    # In a thread of its own: Playwright's sync API (the session's chromium fixture, once a browser test
    # has run) keeps an event loop running in the main thread, where asyncio.run() is refused.
    with ThreadPoolExecutor(1) as thread:
        accepted, order, data, paths, info, listed, progress = thread.submit(asyncio.run, scenario()).result()
    assert order.id == accepted.order_id and order.status == "completed"
    check_image(data, "JPEG")
    assert len(paths) == 1 and paths[0].read_bytes() == data
    assert info.account.credits_remaining == 4 and listed == [order.id]
    assert progress and progress[-1] is None  # a completed order carries no progress field


def test_typed_errors(same_rate_window, api_base, make_account, settings):
    rich = make_account(credits=100, plan="free")
    client = Client(rich.api_key, api_base, max_retries=0)

    with pytest.raises(AuthenticationError) as caught:
        Client("ftmv_" + "x" * 59, api_base).account()
    assert caught.value.status == 401 and caught.value.code == "UNAUTHORIZED"
    assert caught.value.response is not None and caught.value.response.status_code == 401

    with pytest.raises(NotFoundError) as caught:
        client.get_order(987654321)
    assert caught.value.code == "NOT_FOUND" and "987654321" in caught.value.message

    with pytest.raises(ValidationError) as caught:
        client.generate(style="product_catalog", product_image=mug_png(), quantity=7)
    assert caught.value.code == "INVALID_REQUEST" and "quantity" in caught.value.fields
    assert not isinstance(caught.value, InvalidImageError)

    with pytest.raises(InvalidImageError) as caught:
        client.generate(person_image=b"not an image at all", clothing_image=shirt_jpeg())
    assert caught.value.code == "INVALID_IMAGE" and caught.value.status == 400

    settings.API_MAX_IMAGE_BYTES = 4096  # the server's own limit, lowered so a normal photo is over it
    with pytest.raises(PayloadTooLargeError) as caught:
        client.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg())
    assert caught.value.status == 413 and caught.value.code == "PAYLOAD_TOO_LARGE"
    settings.API_MAX_IMAGE_BYTES = 15 * 1024 * 1024

    broke = Client(make_account(credits=0).api_key, api_base)
    with pytest.raises(InsufficientCreditsError) as caught:
        broke.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg())
    assert caught.value.credits_required == 1 and caught.value.credits_available == 0

    # Free plan: one order in flight. No worker runs here, so the first one stays pending.
    first = client.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg())
    with pytest.raises(ConcurrencyLimitError) as caught:
        client.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg())
    assert caught.value.retry_after == 5 and isinstance(caught.value, RateLimitError)
    # With retries on, the client waits the Retry-After (5 s) before its one retry, then gives up.
    retrying = Client(rich.api_key, api_base, max_retries=1)
    started = time.monotonic()
    with pytest.raises(ConcurrencyLimitError):
        retrying.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg())
    assert time.monotonic() - started >= 4.5
    assert client.get_order(first).status == "pending"

    # Only the order created counts against the free plan's 10 per hour (refused requests do not).
    assert client.rate_limit.remaining == 9, client.rate_limit
    # An account with 9 orders this hour: the 10th is accepted, the next is refused by the limit itself.
    spent = Client(counted_orders(make_account(credits=100, plan="free"), 9).api_key, api_base, max_retries=0)
    spent.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg())
    assert spent.rate_limit.remaining == 0
    with pytest.raises(RateLimitError) as caught:
        spent.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg())
    error = caught.value
    assert error.code == "RATE_LIMIT_EXCEEDED" and not isinstance(error, ConcurrencyLimitError)
    assert 0 < error.retry_after <= 3600 and error.rate_limit.remaining == 0 and error.rate_limit.limit == 10
    assert error.details["window"] == "hourly"


def test_server_error_retried_then_raised(api_base, make_account, settings):
    account = make_account()
    attempts: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda request: attempts.append(request.url.path)]})
    client = Client(account.api_key, api_base, max_retries=2, http_client=http)
    # Point the server's cache (rate limits, auth throttling) at a Redis that is not there: a real fault
    # inside the server. (Today accounts.auth_throttle's middleware hits it before DRF's JSON error handler,
    # so the 500 comes as Django's HTML page: the SDK must still raise ServerError, with no code.)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    with pytest.raises(ServerError) as caught:
        client.account()
    # 500 today; a 503 SERVICE_UNAVAILABLE (a ServerError too) would be as right for a dead cache.
    assert caught.value.status in (500, 503) and caught.value.code in ("INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "")
    assert type(caught.value) is ftmv_client.ERROR_CODES.get(caught.value.code, ServerError)
    assert caught.value.response is not None and caught.value.response.status_code == caught.value.status
    assert attempts == ["/api/v1/account"] * 3  # a safe request: retried twice, then raised


class LoseFirstResponse(httpx.BaseTransport):
    """Forwards to the real server, but drops the response of the first POST /generate, as a network
    failure after the server has accepted the order would."""

    def __init__(self) -> None:
        self.real = httpx.HTTPTransport()
        self.keys: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.real.handle_request(request)
        if request.method == "POST":
            self.keys.append(request.headers["Idempotency-Key"])
            if len(self.keys) == 1:
                response.read()
                response.close()
                raise httpx.ReadError("connection reset after the server answered", request=request)
        return response


def test_generate_retried_with_one_idempotency_key(api_base, make_account):
    account = make_account(credits=10, plan="paid")
    transport = LoseFirstResponse()
    client = Client(account.api_key, api_base, http_client=httpx.Client(transport=transport))
    accepted = client.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg())
    assert len(transport.keys) == 2 and transport.keys[0] == transport.keys[1]  # the retry reused the key
    listing = client.list_orders()
    assert listing.pagination.total == 1 and listing.orders[0].id == accepted.order_id  # one order
    assert client.account().account.credits_remaining == 9  # charged once

    # An explicit key: the same order back; a new call (new key) is a new order.
    again = client.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg(), idempotency_key=transport.keys[0])
    assert again.order_id == accepted.order_id
    other = client.generate(person_image=person_jpeg(), clothing_image=shirt_jpeg())
    assert other.order_id != accepted.order_id
    assert client.account().account.credits_remaining == 8


def test_environment_configuration(api_base, make_account, monkeypatch):
    account = make_account(credits=3)
    monkeypatch.setenv("FTMV_API_KEY", account.api_key)
    monkeypatch.setenv("FTMV_BASE_URL", api_base + "/api/v1/")
    info = Client().account()
    assert info.account.user_id == account.user.pk and info.account.credits_remaining == 3
    monkeypatch.delenv("FTMV_API_KEY")
    with pytest.raises(ValueError, match="FTMV_API_KEY"):
        Client()


def test_image_inputs_are_encoded_once_and_exactly(tmp_path):
    from ftmv_client.images import encode_image

    data = person_jpeg()
    path = tmp_path / "p.jpg"
    path.write_bytes(data)
    expected = base64.b64encode(data).decode()
    for value in (str(path), path, data, bytearray(data), memoryview(data), io.BytesIO(data), Base64(expected)):
        assert encode_image(value, "person_image") == expected
    with pytest.raises(FileNotFoundError):
        encode_image("definitely/not/here.jpg", "person_image")  # a plain string is a path, never base64
    with pytest.raises(TypeError):
        encode_image(io.StringIO("text"), "person_image")
    Image.open(io.BytesIO(base64.b64decode(expected))).verify()


def test_pip_installs_from_the_folder(tmp_path):
    """`pip install sdks/python` works (an isolated build: pip fetches setuptools) and ships py.typed (PEP 561)."""
    # From a copy: setuptools builds in the source folder (build/, *.egg-info), which must stay clean.
    source = shutil.copytree(PYTHON_SDK.parent, tmp_path / "source", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, str(source)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    assert (target / "ftmv_client" / "py.typed").exists()
    probe = "import ftmv_client, sys; print(ftmv_client.__file__, ftmv_client.__version__)"
    out = subprocess.run(
        [sys.executable, "-c", probe], env={"PYTHONPATH": str(target)}, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith(str(target)) and out.split()[1] == ftmv_client.__version__


def test_types_check_strictly_and_reach_users(tmp_path):
    """mypy --strict passes on the package, and its annotations reach a user's code: a wrong use of a
    result is a type error there. (test_pip_installs_from_the_folder checks py.typed ships.)"""
    user = tmp_path / "user.py"
    user.write_text(
        "from ftmv_client import Client\n"
        "client = Client('k')\n"
        "order = client.wait(client.generate(person_image='p.jpg', clothing_image='c.jpg'))\n"
        "url: str | None = order.results.result_url if order.results else None\n"
        "data: bytes = client.download('https://x.test/r.jpg')\n"
        "wrong: str = order.progress\n"
    )
    mypy = [sys.executable, "-m", "mypy", "--strict", "--config-file", "/dev/null", "--cache-dir", "/dev/null"]
    env = {**os.environ, "MYPYPATH": str(PYTHON_SDK)}
    package = subprocess.run([*mypy, str(PYTHON_SDK / "ftmv_client")], capture_output=True, text=True, env=env)
    assert package.returncode == 0, package.stdout
    consumer = subprocess.run([*mypy, str(user)], capture_output=True, text=True, env=env, cwd=tmp_path)
    errors = [line for line in consumer.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "user.py:6:" in errors[0] and "int | None" in errors[0], consumer.stdout
