"""Structured logs: every record carries the request id and the order id it belongs to, so that one order's
whole life (the web request that made it, the worker that ran it, its webhook delivery) is found by one grep.

- ``RequestIdMiddleware`` takes the caller's ``X-Request-ID`` when it is sane (a proxy or client that already
  tags its requests keeps its id) or makes one, answers it in the ``X-Request-ID`` header, keeps it in a
  context variable for the request's records, and writes one line per request.
- Celery: the request id in force when a task is queued travels in the message's headers and is set again
  around the task's run, so the worker's lines (and the tasks it queues in turn) carry it too.
- ``ContextFilter``, on the log handlers, adds ``request_id`` and ``order_id`` to every record that has them.

This module is imported by the logging configuration itself: it must not import Django models.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from celery.signals import before_task_publish, task_postrun, task_prerun

logger = logging.getLogger("ftmv.request")

REQUEST_ID_HEADER = "X-Request-ID"
# The message header that carries the request id to a task.
TASK_HEADER = "ftmv_request_id"
# Long enough to be unique, short and plain enough to be safe in a header and a log line.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
order_id_var: ContextVar[int | None] = ContextVar("order_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str:
    """The caller's request id when it is sane, else a new one (a hostile value never reaches the logs)."""
    if value and SANE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


@contextmanager
def order_context(order_id: int) -> Iterator[None]:
    """Records written inside the block carry ``order_id``."""
    token = order_id_var.set(order_id)
    try:
        yield
    finally:
        order_id_var.reset(token)


class ContextFilter(logging.Filter):
    """Adds the current request id and order id to each record (a value the caller passed in ``extra``
    wins). On the handlers, not on loggers: a logger's filters never see records of its children."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        order_id = order_id_var.get()
        if order_id is not None and not hasattr(record, "order_id"):
            record.order_id = order_id
        return True


class RequestIdMiddleware:
    """First in the chain: every later middleware's and view's records carry the request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accepted_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request_token = request_id_var.set(request_id)
        # Reset at the end like the request id: the order a request creates (tryon.services) tags its lines only.
        order_token = order_id_var.set(None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            match = getattr(request, "resolver_match", None)
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": match.route if match is not None else "",
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            order_id_var.reset(order_token)
            request_id_var.reset(request_token)


@before_task_publish.connect(weak=False, dispatch_uid="core.logs.request_id_to_task")
def _request_id_to_task(headers: dict | None = None, **kwargs) -> None:
    request_id = request_id_var.get()
    if request_id is not None and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


# Task id -> the token that restores the request id its run replaced.
_task_tokens: dict[str, Token[str | None]] = {}


@task_prerun.connect(weak=False, dispatch_uid="core.logs.request_id_from_task")
def _request_id_from_task(task_id: str = "", task=None, **kwargs) -> None:
    # A worker puts the message's headers on the request; without the header (a task run eagerly inside the
    # request that queued it) the id in force stays.
    request = getattr(task, "request", None)
    value = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    if not (isinstance(value, str) and SANE_REQUEST_ID.fullmatch(value)):
        value = request_id_var.get()
    _task_tokens[task_id] = request_id_var.set(value)


@task_postrun.connect(weak=False, dispatch_uid="core.logs.request_id_restored")
def _request_id_restored(task_id: str = "", **kwargs) -> None:
    # Pool processes and threads run one task after another: the next task must not inherit this one's id.
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
