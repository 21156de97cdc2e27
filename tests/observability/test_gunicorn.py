"""gunicorn.conf.py, with a real gunicorn: metric files of dead processes removed at start, a worker's counts
served by /metrics from the shared folder, and gunicorn's own lines in the service's JSON format."""

from __future__ import annotations

import json
import os
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.reliability.conftest import gunicorn_web

from .conftest import scrape, value

DEAD_PID = 4194303  # above Linux's default pid_max: no process has it


def test_gunicorn_serves_its_workers_counts_and_logs_json(transactional_db, tmp_path, client, settings):
    settings.METRICS_TOKEN = ""
    healthz = {"route": "healthz", "method": "GET", "status": "200"}
    # What this test session's own processes counted so far (they share the folder with the gunicorn).
    before = value(scrape(client), "ftmv_http_request_duration_seconds_count", **healthz)
    folder = Path(settings.PROMETHEUS_MULTIPROC_DIR)
    dead = folder / f"counter_{DEAD_PID}.db"
    dead.write_bytes(b"")  # an earlier run's file: unreadable as it is, so /metrics would fail if it stayed
    log = tmp_path / "gunicorn.log"
    with gunicorn_web(log, METRICS_TOKEN="") as base:
        assert not dead.exists()
        assert any(path.stem.endswith(f"_{os.getpid()}") for path in folder.glob("*.db"))  # a live one stays
        ids = [requests.get(f"{base}/healthz", timeout=30).headers["X-Request-ID"] for _ in range(3)]
        metrics = requests.get(f"{base}/metrics", timeout=30)
    assert metrics.status_code == 200
    served = [
        sample.value
        for family in text_string_to_metric_families(metrics.text)
        for sample in family.samples
        if sample.name == "ftmv_http_request_duration_seconds_count" and sample.labels == healthz
    ]
    assert served == [before + 3]
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records)
    assert {r["request_id"] for r in records if r["logger"] == "ftmv.request" and r["path"] == "/healthz"} == set(ids)
