"""Settings for the test suite: the real settings, isolated from a running dev instance.

The database and broker stay whatever the environment configures (SQLite and
the embedded broker by default, PostgreSQL and Redis in CI's second pass), but
tests never share a broker queue, media folder or cache with `make run`.
"""

import os

from .settings import *  # noqa: F403
from .settings import CACHES, CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_BROKER_URL, REDIS_URL, VAR_DIR

TESTING = True

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
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Fault tests: the order task waits this long after decoding (read by tryon.tasks; never set in production).
TEST_PIPELINE_DELAY = float(os.environ.get("FTMV_TEST_PIPELINE_DELAY") or 0)
