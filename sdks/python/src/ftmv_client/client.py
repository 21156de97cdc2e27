"""The sync :class:`Client` and the async :class:`AsyncClient`, on httpx.

Both share :class:`_Base`, which holds everything that does no I/O (configuration, request bodies,
retry and polling decisions), so the two differ only in ``await``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload
from urllib.parse import urlsplit

import httpx

from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    OrderFailedError,
    RateLimitError,
    WaitTimeoutError,
    error_from_response,
)
from .images import ImageInput, encode_image
from .models import Accepted, Account, Category, Format, Order, OrderList, Quality, RateLimit, Style

DEFAULT_BASE_URL = "https://ftmvai.com"
API_PATH = "/api/v1"

# operationId in the OpenAPI document -> (method, path under /api/v1). The client builds every request
# from this table, and the contract test compares it with the document.
OPERATIONS: dict[str, tuple[str, str]] = {
    "generate": ("POST", "/generate"),
    "order": ("GET", "/orders/{order_id}"),
    "orders": ("GET", "/orders"),
    "account": ("GET", "/account"),
}

# generate() takes the body's "options" object flattened into keyword arguments: these ones.
OPTION_FIELDS = ("quality", "format", "category")
RETRY_STATUSES = frozenset({500, 502, 503, 504})
OrderRef = int | Accepted | Order


def _order_id(order: OrderRef) -> int:
    if isinstance(order, Accepted):
        return order.order_id
    if isinstance(order, Order):
        return order.id
    return int(order)


class _Base:
    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        *,
        timeout: float,
        max_retries: int,
        max_retry_wait: float,
    ) -> None:
        api_key = api_key or os.environ.get("FTMV_API_KEY")
        if not api_key:
            raise ValueError("no API key: pass api_key= or set FTMV_API_KEY")
        self.api_key = api_key
        root = (base_url or os.environ.get("FTMV_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        # Accept both the site ("https://ftmvai.com") and the API root ("https://ftmvai.com/api/v1").
        self.base_url = root if root.endswith(API_PATH) else root + API_PATH
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.rate_limit: RateLimit | None = None  # X-RateLimit-* of the latest API response
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": f"ftmv-python/{__version__}",
        }

    def _url(self, operation: str, **params: Any) -> tuple[str, str]:
        method, path = OPERATIONS[operation]
        return method, self.base_url + path.format(**params)

    @staticmethod
    def _generate_body(
        style: Style,
        person_image: ImageInput | None,
        clothing_image: ImageInput | None,
        product_image: ImageInput | None,
        quantity: int | None,
        quality: Quality | None,
        format: Format | None,
        category: Category | None,
        webhook_url: str | None,
    ) -> bytes:
        body: dict[str, Any] = {"style": style}
        images = {"person_image": person_image, "clothing_image": clothing_image, "product_image": product_image}
        body.update({name: encode_image(value, name) for name, value in images.items() if value is not None})
        if quantity is not None:
            body["quantity"] = quantity
        chosen = {"quality": quality, "format": format, "category": category}
        options = {name: chosen[name] for name in OPTION_FIELDS if chosen[name] is not None}
        if options:
            body["options"] = options
        if webhook_url:
            body["webhook_url"] = webhook_url
        # Serialized once: every retry sends the same bytes, which the server's idempotency check hashes.
        return json.dumps(body, separators=(",", ":")).encode()

    def _backoff(self, attempt: int) -> float:
        # Exponential with jitter, so clients that failed together do not retry together.
        return min(8.0, 0.5 * 2.0**attempt) * (0.5 + random.random() / 2)  # noqa: S311 - not security

    def _retry_delay(self, error: APIError, attempt: int) -> float | None:
        """Seconds to wait before retrying ``error``, or None to raise it."""
        if attempt >= self.max_retries:
            return None
        if isinstance(error, RateLimitError):
            wait = error.retry_after
            # An hourly budget that resets in 40 minutes is the caller's decision, not a silent sleep.
            return wait if wait is not None and wait <= self.max_retry_wait else None
        if error.status in RETRY_STATUSES:
            return min(self.max_retry_wait, error.retry_after or self._backoff(attempt))
        return None

    def _note(self, response: httpx.Response) -> None:
        self.rate_limit = RateLimit.from_headers(response.headers) or self.rate_limit

    @staticmethod
    def _poll_delay(order: Order, step: int, min_interval: float, max_interval: float) -> float:
        """Backoff from ``min_interval``; while the server's estimate is further away, wait for it (capped)."""
        delay = min(max_interval, min_interval * 1.5**step)
        if order.estimated_completion is not None:
            ahead = (order.estimated_completion - datetime.now(UTC)).total_seconds()
            if ahead > delay:
                delay = min(ahead, max_interval)
        return delay

    @staticmethod
    def _file_name(url: str) -> str:
        return Path(urlsplit(url).path).name or "result"


class Client(_Base):
    """Synchronous client. ``Client()`` reads FTMV_API_KEY and FTMV_BASE_URL from the environment.

    >>> client = Client()
    >>> order = client.wait(client.generate(person_image="me.jpg", clothing_image="shirt.jpg"))
    >>> client.download(order.results.result_url, "result.jpg")
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout=timeout, max_retries=max_retries, max_retry_wait=max_retry_wait)
        self._http = http_client or httpx.Client(timeout=timeout)
        self._owns_http = http_client is None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _send(self, method: str, url: str, *, retry: bool, api: bool = True, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                # A request that never connected is always safe to repeat; one that may have reached the
                # server only when it is idempotent (a GET, or a POST carrying an Idempotency-Key).
                if attempt < self.max_retries and (retry or isinstance(exc, httpx.ConnectError)):
                    time.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise APIConnectionError(f"{method} {url}: {exc!r}") from exc
            if api:
                self._note(response)
            if response.is_success:
                return response
            error = error_from_response(response)
            delay = self._retry_delay(error, attempt) if retry else None
            if delay is None:
                raise error
            response.close()
            time.sleep(delay)
            attempt += 1

    def _call(self, operation: str, *, path: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        method, url = self._url(operation, **(path or {}))
        headers = {**self._headers, **kwargs.pop("headers", {})}
        return self._send(method, url, retry=True, headers=headers, **kwargs).json()

    def generate(
        self,
        *,
        style: Style = "virtual_tryon",
        person_image: ImageInput | None = None,
        clothing_image: ImageInput | None = None,
        product_image: ImageInput | None = None,
        quantity: int | None = None,
        quality: Quality | None = None,
        format: Format | None = None,
        category: Category | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Create an order (POST /generate). Images: a path, bytes, a binary stream or :class:`Base64`.

        Retried automatically under one ``Idempotency-Key`` (generated unless given), so a retry after a
        lost response returns the same order and charges once.
        """
        content = self._generate_body(
            style, person_image, clothing_image, product_image, quantity, quality, format, category, webhook_url
        )
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return Accepted.from_json(self._call("generate", content=content, headers=headers))

    def get_order(self, order: OrderRef) -> Order:
        """GET /orders/{id}."""
        return Order.from_json(self._call("order", path={"order_id": _order_id(order)})["order"])

    def list_orders(self, *, page: int = 1, page_size: int = 20) -> OrderList:
        """GET /orders: one page, newest first."""
        return OrderList.from_json(self._call("orders", params={"page": page, "page_size": page_size}))

    def iter_orders(self, *, page_size: int = 100) -> Iterator[Order]:
        """Every order, newest first, page by page."""
        page = 1
        while True:
            listing = self.list_orders(page=page, page_size=page_size)
            yield from listing.orders
            if not listing.pagination.next:
                return
            page += 1

    def account(self) -> Account:
        """GET /account."""
        return Account.from_json(self._call("account"))

    def wait(
        self,
        order: OrderRef,
        *,
        timeout: float = 600.0,
        on_progress: Callable[[Order], object] | None = None,
        min_interval: float = 1.0,
        max_interval: float = 5.0,
    ) -> Order:
        """Poll until the order is completed and return it. ``on_progress`` gets every state polled.

        Raises :class:`OrderFailedError` when it fails, :class:`WaitTimeoutError` after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        step = 0
        while True:
            current = self.get_order(order)
            if on_progress is not None:
                on_progress(current)
            if current.status == "completed":
                return current
            if current.status == "failed":
                raise OrderFailedError(current)
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(current, timeout)
            time.sleep(min(left, self._poll_delay(current, step, min_interval, max_interval)))
            step += 1

    @overload
    def download(self, url: str, path: None = None) -> bytes: ...
    @overload
    def download(self, url: str, path: str | os.PathLike[str]) -> Path: ...
    def download(self, url: str, path: str | os.PathLike[str] | None = None) -> bytes | Path:
        """A result's bytes, or, given a path, the file written there (its parent folders created)."""
        # Result URLs are fetchable as they are: the API key is not sent, the URL may be on another host.
        response = self._send("GET", url, retry=True, api=False, follow_redirects=True)
        if path is None:
            return response.content
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(response.content)
        return target

    def download_results(self, order: Order, folder: str | os.PathLike[str]) -> list[Path]:
        """Every generated image of a completed order into ``folder``; the paths, in order."""
        if order.results is None:
            raise ValueError(f"order {order.id} is {order.status}: it has no results yet")
        return [self.download(url, Path(folder) / self._file_name(url)) for url in order.results.outputs]


class AsyncClient(_Base):
    """The same client for asyncio: every method is a coroutine."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout=timeout, max_retries=max_retries, max_retry_wait=max_retry_wait)
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http_client is None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _send(self, method: str, url: str, *, retry: bool, api: bool = True, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt < self.max_retries and (retry or isinstance(exc, httpx.ConnectError)):
                    await asyncio.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise APIConnectionError(f"{method} {url}: {exc!r}") from exc
            if api:
                self._note(response)
            if response.is_success:
                return response
            error = error_from_response(response)
            delay = self._retry_delay(error, attempt) if retry else None
            if delay is None:
                raise error
            await response.aclose()
            await asyncio.sleep(delay)
            attempt += 1

    async def _call(self, operation: str, *, path: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        method, url = self._url(operation, **(path or {}))
        headers = {**self._headers, **kwargs.pop("headers", {})}
        return (await self._send(method, url, retry=True, headers=headers, **kwargs)).json()

    async def generate(
        self,
        *,
        style: Style = "virtual_tryon",
        person_image: ImageInput | None = None,
        clothing_image: ImageInput | None = None,
        product_image: ImageInput | None = None,
        quantity: int | None = None,
        quality: Quality | None = None,
        format: Format | None = None,
        category: Category | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """See :meth:`Client.generate`. (Files are read before the request, in this thread.)"""
        content = self._generate_body(
            style, person_image, clothing_image, product_image, quantity, quality, format, category, webhook_url
        )
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return Accepted.from_json(await self._call("generate", content=content, headers=headers))

    async def get_order(self, order: OrderRef) -> Order:
        return Order.from_json((await self._call("order", path={"order_id": _order_id(order)}))["order"])

    async def list_orders(self, *, page: int = 1, page_size: int = 20) -> OrderList:
        return OrderList.from_json(await self._call("orders", params={"page": page, "page_size": page_size}))

    async def iter_orders(self, *, page_size: int = 100) -> AsyncIterator[Order]:
        page = 1
        while True:
            listing = await self.list_orders(page=page, page_size=page_size)
            for order in listing.orders:
                yield order
            if not listing.pagination.next:
                return
            page += 1

    async def account(self) -> Account:
        return Account.from_json(await self._call("account"))

    async def wait(
        self,
        order: OrderRef,
        *,
        timeout: float = 600.0,
        on_progress: Callable[[Order], object | Awaitable[object]] | None = None,
        min_interval: float = 1.0,
        max_interval: float = 5.0,
    ) -> Order:
        """See :meth:`Client.wait`; ``on_progress`` may be a coroutine function."""
        deadline = time.monotonic() + timeout
        step = 0
        while True:
            current = await self.get_order(order)
            if on_progress is not None:
                outcome = on_progress(current)
                if isinstance(outcome, Awaitable):
                    await outcome
            if current.status == "completed":
                return current
            if current.status == "failed":
                raise OrderFailedError(current)
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(current, timeout)
            await asyncio.sleep(min(left, self._poll_delay(current, step, min_interval, max_interval)))
            step += 1

    @overload
    async def download(self, url: str, path: None = None) -> bytes: ...
    @overload
    async def download(self, url: str, path: str | os.PathLike[str]) -> Path: ...
    async def download(self, url: str, path: str | os.PathLike[str] | None = None) -> bytes | Path:
        response = await self._send("GET", url, retry=True, api=False, follow_redirects=True)
        if path is None:
            return response.content
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(response.content)
        return target

    async def download_results(self, order: Order, folder: str | os.PathLike[str]) -> list[Path]:
        if order.results is None:
            raise ValueError(f"order {order.id} is {order.status}: it has no results yet")
        return [await self.download(url, Path(folder) / self._file_name(url)) for url in order.results.outputs]
