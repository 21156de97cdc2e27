"""gunicorn's settings for ftmv, read from the working folder whatever the command line (`make run`, the README's
production commands): Prometheus multiprocess housekeeping and gunicorn's own log lines in the service's format.

The project's settings are loaded here, in the master, before any worker forks: they choose
PROMETHEUS_MULTIPROC_DIR (and put it in the environment the workers inherit) and the log format.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ftmv.settings")

from django.conf import settings  # noqa: E402 - needs DJANGO_SETTINGS_MODULE

from core.metrics_files import remove_dead_process_files  # noqa: E402 - plain Python, no Django set-up

# gunicorn's lines (start, worker boots and deaths, errors) formatted like every other line of the service.
# Its access log stays quiet: core.logs writes one line per request with its request id and route.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": settings.LOGGING["filters"],
    "formatters": {"service": settings.LOGGING["formatters"][settings.LOG_FORMAT]},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "service",
            "filters": ["context"],
            "stream": "ext://sys.stdout",
        },
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "service",
            "filters": ["context"],
            "stream": "ext://sys.stderr",
        },
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": ["console"], "propagate": False},
    },
}


def on_starting(server) -> None:
    """Metric files of processes that are gone are removed before the workers start (core.metrics_files)."""
    remove_dead_process_files(settings.PROMETHEUS_MULTIPROC_DIR)


def child_exit(server, worker) -> None:
    """A gunicorn worker exited: its live gauges no longer count (its counters and histograms still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
