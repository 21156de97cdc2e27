"""A worker knows every task that beat schedules and the services queue, and routes them to their queues:
the task modules it does not autodiscover (<app>.tasks) are listed in CELERY_IMPORTS."""

from __future__ import annotations

import json
import subprocess
import sys

from django.conf import settings

from tests.conftest import ROOT

# What a worker process imports at start (autodiscovered <app>.tasks and CELERY_IMPORTS), in a fresh
# process: in this one the test suite has imported every module already.
SCRIPT = """
import json, django
django.setup()
from ftmv.celery import app
app.loader.import_default_modules()
print(json.dumps({name: app.amqp.router.route({}, name)["queue"].name for name in app.tasks if "." in name}))
"""


def test_a_worker_registers_and_routes_every_task():
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin", "FTMV_VAR_DIR": str(settings.VAR_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    queues = json.loads(result.stdout.strip().splitlines()[-1])
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert queues.get(entry["task"]) == "default", entry["task"]
    assert queues["tryon.tasks.process_order"] == "images"
    assert queues["tryon.webhooks.deliver_webhook"] == settings.WEBHOOK_QUEUE == "webhooks"
