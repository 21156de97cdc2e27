"""Prometheus metrics, served at /metrics.

Counts and durations are prometheus_client metrics in multiprocess mode: each process (gunicorn's workers,
Celery's pool) writes its own to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. Business
counts (orders, credits) move only once their transaction commits, so a rolled-back order counts nothing.

What must be true at the moment of the scrape (queue depth, workers alive) is not a count any process
keeps: ``LiveCollector`` reads it from the broker and the database when /metrics is asked.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http import HTTPStatus
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Max
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from .health import WORKER_STALE_AFTER
from .metrics_files import remove_dead_process_files
from .models import WorkerHeartbeat
from .security import client_address

logger = logging.getLogger(__name__)

ORDERS_CREATED = Counter("ftmv_orders_created", "Orders accepted (charged and queued), by style.", ["style"])
ORDERS_COMPLETED = Counter("ftmv_orders_completed", "Orders completed, by style.", ["style"])
ORDERS_FAILED = Counter(
    "ftmv_orders_failed", "Orders failed (and refunded), by style and error code.", ["style", "error_code"]
)
CREDITS_SPENT = Counter("ftmv_credits_spent", "Credits charged for orders.")
CREDITS_REFUNDED = Counter("ftmv_credits_refunded", "Credits given back for failed orders.")
# From tens of milliseconds (encoding a small image) to the task's hard limit (minutes).
STAGE_SECONDS = Histogram(
    "ftmv_stage_duration_seconds",
    "Duration of each pipeline stage of completed orders, by engine.",
    ["engine", "stage"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
)
HTTP_SECONDS = Histogram(
    "ftmv_http_request_duration_seconds",
    "Time to answer a request, by route pattern (never the raw path: bounded labels), method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# The route label of requests no URL pattern matched (404s, refusals before routing).
UNMATCHED_ROUTE = "(unmatched)"


def after_commit(count: Callable[[], None]) -> None:
    """Count when the surrounding transaction commits (at once outside one): nothing for a rollback."""
    transaction.on_commit(count)


class HttpMetricsMiddleware:
    """Each request's time, labelled by the URL pattern that matched it (known once the response is back)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else UNMATCHED_ROUTE
        HTTP_SECONDS.labels(route, request.method, str(response.status_code)).observe(time.perf_counter() - started)
        return response


def queue_names() -> list[str]:
    return list(
        dict.fromkeys([settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_IMAGE_QUEUE, settings.WEBHOOK_QUEUE])
    )


def queue_depths() -> dict[str, int]:
    """Messages waiting in each queue, through kombu (Redis: the lists at every priority; the embedded broker:
    its visible rows), the same connection the tasks are sent on."""
    with current_app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
        channel = conn.default_channel
        return {name: channel.queue_declare(queue=name, passive=False).message_count for name in queue_names()}


class LiveCollector:
    """Gauges read at scrape time in the web process: queue depth per queue, and workers alive."""

    def collect(self) -> Iterator[Metric]:
        broker_up = GaugeMetricFamily("ftmv_broker_up", "1 when the broker answered this scrape, else 0.")
        depth = GaugeMetricFamily("ftmv_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
        try:
            depths = queue_depths()
        except Exception:  # noqa: BLE001 - a broker outage is what the scrape must report, not fail on
            logger.warning("metrics: the broker did not answer", exc_info=True)
            broker_up.add_metric([], 0)
        else:
            broker_up.add_metric([], 1)
            for name, count in depths.items():
                depth.add_metric([name], count)
        yield broker_up
        yield depth
        database_up = GaugeMetricFamily("ftmv_database_up", "1 when the database answered this scrape, else 0.")
        alive = GaugeMetricFamily(
            "ftmv_workers_alive",
            f"Worker hosts whose heartbeat (beat, every 30 s) ran in the last {WORKER_STALE_AFTER} s.",
        )
        age = GaugeMetricFamily("ftmv_worker_heartbeat_age_seconds", "Seconds since the newest worker heartbeat.")
        try:
            hosts, newest = heartbeats()
        except DatabaseError:
            logger.warning("metrics: the database did not answer", exc_info=True)
            database_up.add_metric([], 0)
        else:
            database_up.add_metric([], 1)
            alive.add_metric([], hosts)
            if newest is not None:
                age.add_metric([], max(0.0, (timezone.now() - newest).total_seconds()))
        yield database_up
        yield alive
        yield age


def heartbeats() -> tuple[int, datetime | None]:
    """Hosts that wrote a heartbeat within WORKER_STALE_AFTER, and the newest heartbeat's time."""
    recent = WorkerHeartbeat.objects.filter(seen_at__gte=timezone.now() - timedelta(seconds=WORKER_STALE_AFTER))
    newest = WorkerHeartbeat.objects.aggregate(newest=Max("seen_at"))["newest"]
    return recent.values("hostname").distinct().count(), newest


def metrics_registry() -> CollectorRegistry:
    """Every process's counts (multiprocess files) plus the live gauges."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(LiveCollector())
    return registry


def refusal(authorization: str, client: str) -> tuple[int, str] | None:
    """None when the caller may read the metrics, else (HTTP status, why): the bearer token when METRICS_TOKEN
    is set, else a loopback client."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
            return None
        return 401, "A valid bearer token (METRICS_TOKEN) is required.\n"
    try:
        loopback = ipaddress.ip_address(client).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return 403, "Metrics are served to loopback clients only unless METRICS_TOKEN is set.\n"


@never_cache
@require_GET
def metrics(request) -> HttpResponse:
    """The web host's metrics. The client address honours TRUSTED_PROXY_COUNT: a proxy's own loopback
    address does not open them to everyone."""
    refused = refusal(request.META.get("HTTP_AUTHORIZATION", ""), client_address(request))
    if refused is not None:
        response = HttpResponse(refused[1], status=refused[0], content_type="text/plain; charset=utf-8")
        if refused[0] == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


# --- worker hosts --------------------------------------------------------------------------------------------
# A host that runs workers but no web process (a GPU host) has nobody to serve the counts its workers keep:
# with WORKER_METRICS_PORT set, one worker of the host serves them (every process of the host, from the shared
# folder), with the same access rules as /metrics. The live gauges come from the web's /metrics only.


def _host_metrics_app(environ, start_response):
    refused = refusal(environ.get("HTTP_AUTHORIZATION", ""), environ.get("REMOTE_ADDR", ""))
    if refused is not None:
        status, body = refused[0], refused[1].encode()
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        if status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="metrics"'))
    else:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        status, body, headers = 200, generate_latest(registry), [("Content-Type", CONTENT_TYPE_LATEST)]
    start_response(f"{status} {HTTPStatus(status).phrase}", [*headers, ("Content-Length", str(len(body)))])
    return [body]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass  # one line per scrape would drown the worker's own lines


def serve_host_metrics(port: int, bind: str) -> WSGIServer | None:
    """Serve this host's metrics on ``bind``:``port`` from a thread of this process, after removing the
    files of processes that are gone. None when another worker of the host serves them already."""
    remove_dead_process_files(settings.PROMETHEUS_MULTIPROC_DIR)
    try:
        server = make_server(bind, port, _host_metrics_app, _ThreadingWSGIServer, _QuietHandler)
    except OSError as exc:
        logger.info("metrics on %s:%s not served by this worker (%s): another one of this host does", bind, port, exc)
        return None
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("this host's metrics are served on http://%s:%s/metrics", bind, port)
    return server
