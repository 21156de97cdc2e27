"""Settings for the test suite: the real settings, isolated from a running dev instance.

The database and broker stay whatever the environment configures (SQLite and
the embedded broker by default, PostgreSQL and Redis in CI's second pass), but
tests never share a broker queue, media folder or cache with `make run`.
Test-only hooks live in the test-only app ``tests.support``, never in the service's code.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from ftmv.settings import *  # noqa: F403
from ftmv.settings import (
    CACHES,
    CELERY_BROKER_TRANSPORT_OPTIONS,
    CELERY_BROKER_URL,
    INSTALLED_APPS,
    REDIS_URL,
    STORAGES,
    VAR_DIR,
)

TESTING = True
INSTALLED_APPS = [*INSTALLED_APPS, "tests.support.apps.TestSupportConfig"]

if not os.environ.get("CELERY_BROKER_URL") and not REDIS_URL:
    CELERY_BROKER_URL = f"sqla+sqlite:///{VAR_DIR / 'test-broker.sqlite3'}"
if CELERY_BROKER_URL.startswith("redis"):
    # On a shared Redis, keep test queues apart from a dev worker's.
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": "ftmv-test:"}
if "KEY_PREFIX" in CACHES["default"]:
    CACHES["default"]["KEY_PREFIX"] = "ftmv-test"

MEDIA_ROOT = VAR_DIR / "test-media"
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Fault tests: a worker started with FTMV_TEST_PIPELINE_DELAY holds an order's first attempt this long
# after decoding (tests.support installs the hold; the service's code knows nothing of it).
TEST_PIPELINE_DELAY = float(os.environ.get("FTMV_TEST_PIPELINE_DELAY") or 0)
# This session's metrics in a folder of its own, never `make run`'s: made by the pytest process and shared with
# the workers and gunicorns it starts, which inherit the variable (prometheus_client reads it on first import,
# after the settings).
if not os.environ.get("FTMV_TEST_METRICS_DIR"):
    os.environ["FTMV_TEST_METRICS_DIR"] = tempfile.mkdtemp(prefix="test-metrics-", dir=VAR_DIR)
    atexit.register(shutil.rmtree, os.environ["FTMV_TEST_METRICS_DIR"], ignore_errors=True)
PROMETHEUS_MULTIPROC_DIR = Path(os.environ["FTMV_TEST_METRICS_DIR"])
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
