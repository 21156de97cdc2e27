"""Fixtures shared by the whole suite: a real Celery worker process, a real Chromium."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_tests() -> str:
    """A DATABASE_URL naming the test database the suite is using right now."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if db["ENGINE"].endswith("postgresql"):
        auth = quote(db["USER"] or "")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"])
        return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    raise RuntimeError(f"no worker support for {db['ENGINE']}")


class WorkerProcess:
    """A `celery worker` subprocess consuming the test broker with the test database: one prefork process
    on every queue, or ``celery_args`` (what follows `celery`, e.g. a Procfile line's) instead."""

    def __init__(self, log_path: Path, extra_env: dict[str, str] | None = None, celery_args: list[str] | None = None):
        self.log_path = log_path
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url_for_tests(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                *(
                    celery_args
                    or [
                        "-A",
                        "ftmv",
                        "worker",
                        "-Q",
                        "images,default,webhooks",
                        "--concurrency",
                        "1",
                        "--loglevel",
                        "INFO",
                        "--without-gossip",
                        "--without-mingle",
                        "-n",
                        f"test-{uuid.uuid4().hex[:8]}@%h",
                    ]
                ),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def logs(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_until_consuming(self, timeout: float = 90) -> None:
        """Send a heartbeat through the broker and wait until the worker writes it to the database."""
        from core.models import WorkerHeartbeat
        from core.tasks import heartbeat

        token = uuid.uuid4().hex
        heartbeat.delay(token)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if WorkerHeartbeat.objects.filter(token=token).exists():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"worker did not consume a heartbeat within {timeout}s; log:\n{self.logs()[-4000:]}")

    def pool_children(self) -> list[int]:
        """Pids of the prefork pool processes (the ones that run tasks)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once: no shutdown, no message acknowledged or returned."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if not self.log.closed:
            self.log.close()


def run_image_worker_once(extra_env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Start an image worker on the test database and broker and wait for it to exit (tests of a worker
    that must refuse to start: it would otherwise run until the timeout)."""
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url_for_tests(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
        "PATH": "/usr/bin:/bin",
        "FTMV_VAR_DIR": str(settings.VAR_DIR),
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "ftmv", "worker", "-Q", "images", "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def celery_worker(transactional_db, tmp_path_factory):
    """A real worker process, started for the test and stopped after it.

    Tests that use it see committed data only (transactional_db), since the
    worker is another process with its own database connection.
    """
    worker = WorkerProcess(tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        worker.wait_until_consuming()
        yield worker
    finally:
        worker.stop()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never `playwright install`), one per test session.

    One Playwright instance serves every browser test: a second sync_playwright()
    in the same process fails while the first one's event loop is running.
    """
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium); browser tests need it")
    # Django's live server + Playwright's sync API (an event loop in this thread): tests only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def wait_for_js(page, expression: str, timeout: float = 20) -> None:
    """Poll a JavaScript expression until it is truthy.

    Playwright's wait_for_function evaluates its string with eval() inside the
    page, which the site's Content-Security-Policy (rightly) forbids;
    page.evaluate goes through the debugging protocol and is not blocked.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout}s: {expression}")
        time.sleep(0.1)
