"""The Celery application: configured from Django settings (CELERY_* names)."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ftmv.settings")

app = Celery("ftmv")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect(weak=False)
def _django_logging(**kwargs) -> None:
    """Workers log through Django's LOGGING (JSON lines with request and order ids), not Celery's own format:
    a receiver of this signal tells Celery to leave logging alone."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
