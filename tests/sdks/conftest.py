"""Fixtures for the SDK suites: a live server (pytest-django's live_server), a real Celery worker
(tests/conftest.py's celery_worker), accounts with keys and credits, drawn input photos, and a local
HTTP endpoint that receives the server's real webhook deliveries."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.cache import cache
from PIL import Image
from skimage import data as skdata

from accounts.models import User
from accounts.services import apikey_create
from billing.services import credits_grant

ROOT = Path(__file__).resolve().parents[2]
SDKS = ROOT / "sdks"
PYTHON_SDK = SDKS / "python" / "src"
JS_SDK = SDKS / "js"
PHP_SDK = SDKS / "php"

# The Python SDK is tested from its source folder (test_python_sdk.py also pip-installs it into a scratch
# folder): nothing is installed into the project's environment.
if str(PYTHON_SDK) not in sys.path:
    sys.path.insert(0, str(PYTHON_SDK))


@dataclass
class Account:
    user: User
    api_key: str


@pytest.fixture
def make_account(transactional_db):
    """Make_account(credits=30, plan="paid") -> an account with an API key and that many credits."""
    cache.clear()  # rate-limit counters live in the shared cache: every test starts from zero
    counter = iter(range(1000))

    def make(credits: int = 30, plan: str = "paid") -> Account:
        user = User.objects.create_user(email=f"sdk{next(counter)}-{time.monotonic_ns()}@example.com", plan=plan)
        if credits:
            credits_grant(user, credits, reason="test")
        _, key = apikey_create(user=user, name="sdk")
        return Account(user, key)

    yield make
    cache.clear()


def counted_orders(account: Account, orders: int) -> Account:
    """Count ``orders`` orders against the account's hourly generate window, as order_submit does for each
    order it creates (the typed-error scenarios spend the free plan's 10 this way: now a refused
    request no longer uses a slot, and a free account can only have one order at a time)."""
    from tryon.ratelimit import generate_hit

    for _ in range(orders):
        generate_hit(account.user)
    return account


@pytest.fixture
def same_rate_window():
    """The typed-error tests count generate calls against the hourly window: start them at least a minute
    before the window rolls over (at the top of the hour), or the count would reset halfway."""
    left = 3600 - time.time() % 3600
    if left < 60:
        time.sleep(left + 1)


@pytest.fixture
def api_base(live_server) -> str:
    return live_server.url


def person_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(skdata.astronaut()).save(buffer, "JPEG", quality=92)  # a real photo of a person
    return buffer.getvalue()


def shirt_jpeg() -> bytes:
    garment = np.full((600, 600, 3), 255, np.uint8)  # a drawn T-shirt on a white product background
    outline = [[180, 80], [250, 60], [350, 60], [420, 80], [560, 200], [500, 260], [440, 210], [440, 540]]
    outline += [[160, 540], [160, 210], [100, 260], [40, 200]]
    cv2.fillPoly(garment, [np.array(outline, np.int32)], (30, 60, 200))
    buffer = io.BytesIO()
    Image.fromarray(garment).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def mug_png() -> bytes:
    product = np.full((500, 500, 3), 250, np.uint8)  # a drawn mug on a plain background
    cv2.rectangle(product, (170, 140), (330, 380), (40, 90, 170), -1)
    cv2.ellipse(product, (330, 260), (60, 70), 0, -90, 90, (40, 90, 170), 18)
    buffer = io.BytesIO()
    Image.fromarray(product).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def photos(tmp_path) -> dict[str, Path]:
    files = {"person": person_jpeg(), "clothing": shirt_jpeg(), "product": mug_png()}
    paths = {name: tmp_path / f"{name}.{'png' if name == 'product' else 'jpg'}" for name in files}
    for name, data in files.items():
        paths[name].write_bytes(data)
    return paths


def check_image(data: bytes, fmt: str) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == fmt and min(image.size) >= 64
    return image


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A real HTTP endpoint on 127.0.0.1 that records every POST (the server's webhook deliveries)."""

    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, path: str, timeout: float = 60) -> Delivery:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                found = [d for d in self.deliveries if d.path == path]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no webhook delivery to {path} within {timeout}s")
                self.arrived.wait(left)


@pytest.fixture
def webhook_receiver():
    receiver: WebhookReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.arrived:
                receiver.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                receiver.arrived.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = WebhookReceiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def sdk_worker(celery_worker_env, celery_worker):
    """Tests/conftest.py's real worker, started after celery_worker_env set what it must inherit."""
    return celery_worker


@pytest.fixture
def celery_worker_env(monkeypatch):
    # The worker copies os.environ when it starts. Webhook targets on 127.0.0.1 are refused unless this
    # is on (it defaults to DEBUG, which a CI run might turn off).
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")


def node() -> str | None:
    return shutil.which("node")


def php() -> str | None:
    return shutil.which("php")


def run(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 400, cwd: Path | None = None):
    """Run an SDK's own test program; fail with its whole output."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result
