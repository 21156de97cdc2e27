"""/api/v1: thin views over the order, billing and rate-limit services."""

from __future__ import annotations

import functools
import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import JsonResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication, Rows, table
from billing.models import CreditBalance

from . import ratelimit
from .errors import InvalidRequest, NotFound, PayloadTooLarge, api_exception_handler
from .models import Order, OrderFile
from .presenters import accepted_json, base_url_for, order_json, webhook_secret
from .serializers import (
    IMAGE_ROLES,
    AcceptedSerializer,
    AccountSerializer,
    ErrorSerializer,
    GenerateRequestSerializer,
    OrderListSerializer,
    OrderResponseSerializer,
)
from .services import order_create, order_find_idempotent
from .validation import decode_base64, validate_image

_VALIDATORS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="validate")
ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 404, 429)}


class HasApiKey(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.auth is not None


class ApiView(APIView):
    """Bearer API key, JSON only, one error shape, X-RateLimit-* on every authenticated response."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes: list = []
    counts_as_poll = True

    def get_exception_handler(self):
        return api_exception_handler

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if self.counts_as_poll:
            ratelimit.poll_hit(request.auth.pk)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        user = getattr(request, "_user", None)  # set once authentication ran; None when it failed
        if user is not None and not response.has_header("X-RateLimit-Limit"):
            window = getattr(request, "ratelimit_window", None) or ratelimit.generate_window(user)
            for name, value in ratelimit.headers_for(window).items():
                response[name] = value
        return response


class GenerateView(ApiView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    counts_as_poll = False

    @extend_schema(
        operation_id="generate",
        request={"application/json": GenerateRequestSerializer, "multipart/form-data": GenerateRequestSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Same key and body within 24 h: the first response, charged once.",
            )
        ],
        responses={202: AcceptedSerializer, 402: ErrorSerializer, 413: ErrorSerializer, **ERRORS},
    )
    def post(self, request):
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.API_MAX_REQUEST_BYTES:
            raise PayloadTooLarge(f"The request body is {length} bytes; the limit is {settings.API_MAX_REQUEST_BYTES}.")
        request.ratelimit_window = ratelimit.generate_hit(request.user)
        idempotency_key = request.headers.get("Idempotency-Key", "").strip()
        if len(idempotency_key) > 255:
            raise InvalidRequest("The Idempotency-Key header is longer than 255 characters.")
        # Reading the raw body first applies Django's size limit and gives the idempotency fingerprint.
        request_hash = hashlib.sha256(request._request.body).hexdigest() if idempotency_key else ""
        if idempotency_key:
            replay = order_find_idempotent(user=request.user, key=idempotency_key, request_hash=request_hash)
            if replay is not None:
                return Response(accepted_json(replay), status=202, headers={"Idempotent-Replayed": "true"})

        serializer = GenerateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        raw = {role: (name, _image_bytes(fields[name], name)) for name, role in IMAGE_ROLES.items() if name in fields}
        # Pillow releases the GIL while decoding: the two photos are checked side by side.
        checks = {role: _VALIDATORS.submit(validate_image, data, name) for role, (name, data) in raw.items()}
        images = {role: future.result() for role, future in checks.items()}

        order, _ = order_create(
            user=request.user,
            style=fields["style"],
            images=images,
            quantity=fields["quantity"],
            options=dict(fields["options"]),
            webhook_url=fields.get("webhook_url", ""),
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            base_url=base_url_for(request),
        )
        return Response(accepted_json(order), status=202)


def _image_bytes(value, field: str) -> bytes:
    if isinstance(value, str):
        return decode_base64(value, field)
    if value.size > settings.API_MAX_IMAGE_BYTES:
        raise PayloadTooLarge(
            f"'{field}' is larger than {settings.API_MAX_IMAGE_BYTES // (1024 * 1024)} MB.", details={"field": field}
        )
    return value.read()


# The polling reads (GET /orders/{id}, GET /account) run hand-written SQL through accounts.authentication.Rows:
# compiling the equivalent ORM queries costs several times running them. Everything is still read fresh.
_ORDER_ROWS = Rows(Order, "o")
_FILE_ROWS = Rows(OrderFile, "f")


@functools.cache
def _order_sql() -> str:
    # One round trip: the order, joined to its files only when it is completed (one row per file, or one
    # row with NULL file columns). Identifiers come from the models' meta; values are parameters.
    o, f = _ORDER_ROWS.column, _FILE_ROWS.column
    return (
        f"SELECT {_ORDER_ROWS.select}, {_FILE_ROWS.select} FROM {table(Order)} {_ORDER_ROWS.alias} "  # noqa: S608
        f"LEFT JOIN {table(OrderFile)} {_FILE_ROWS.alias} ON {f('order')} = {o('id')} AND {o('status')} = %s "
        f"WHERE {o('id')} = %s AND {o('user')} = %s ORDER BY {f('role')}, {f('position')}"
    )


def find_order(user_id: int, order_id: int) -> tuple[Order | None, list[OrderFile]]:
    """The user's order and, once completed, its files (in OrderFile's Meta ordering)."""
    if order_id >= 2**63:  # larger ids cannot exist (and overflow the database's integer)
        return None, []
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_order_sql(), [Order.Status.COMPLETED.value, order_id, user_id])
        rows = cursor.fetchall()
    if not rows:
        return None, []
    order = _ORDER_ROWS.load(rows[0])
    file_pk = _ORDER_ROWS.width + _FILE_ROWS.position("id")  # NULL: no file joined
    files = [_FILE_ROWS.load(row, _ORDER_ROWS.width) for row in rows if row[file_pk] is not None]
    return order, files


class OrderDetailView(ApiView):
    @extend_schema(operation_id="order", responses={200: OrderResponseSerializer, **ERRORS})
    def get(self, request, order_id: int):
        order, files = find_order(request.user.pk, order_id)
        if order is None:
            raise NotFound(f"Order {order_id} not found.")
        return Response({"success": True, "order": order_json(order, base_url_for(request), files)})


class OrderListView(ApiView):
    MAX_PAGE_SIZE = 100

    @extend_schema(
        operation_id="orders",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int, description="1-100, 20")],
        responses={200: OrderListSerializer, **ERRORS},
    )
    def get(self, request):
        try:
            page = max(1, int(request.query_params.get("page", 1)))
            size = min(self.MAX_PAGE_SIZE, max(1, int(request.query_params.get("page_size", 20))))
        except ValueError:
            raise InvalidRequest("page and page_size must be whole numbers.") from None
        orders = Order.objects.for_user(request.user)
        total = orders.count()
        rows = orders.prefetch_related("files")[(page - 1) * size : page * size]
        base = base_url_for(request)
        path = base + request.path

        def link(number: int) -> str:
            return f"{path}?page={number}&page_size={size}"

        return Response(
            {
                "success": True,
                "orders": [order_json(order, base) for order in rows],
                "pagination": {
                    "page": page,
                    "page_size": size,
                    "total": total,
                    "next": link(page + 1) if page * size < total else None,
                    "previous": link(page - 1) if page > 1 else None,
                },
            }
        )


@functools.cache
def _account_sql() -> str:
    # The balance as billing.services.credits_balance reads it, and the API calls, in one round trip.
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    balance, owner = (quote(CreditBalance._meta.get_field(name).column) for name in ("balance", "user"))
    return (
        f"SELECT (SELECT {balance} FROM {table(CreditBalance)} WHERE {owner} = %s), "  # noqa: S608
        f"COUNT(*), COALESCE(SUM(CASE WHEN {_ORDER_ROWS.column('created_at')} >= %s THEN 1 ELSE 0 END), 0) "
        f"FROM {table(Order)} {_ORDER_ROWS.alias} "
        f"WHERE {_ORDER_ROWS.column('user')} = %s AND {_ORDER_ROWS.column('source')} = %s"
    )


def account_counts(user_id: int) -> tuple[int, int, int]:
    """(credits balance, API orders created since midnight UTC, API orders in all)."""
    connection = connections[DEFAULT_DB_ALIAS]
    midnight = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(_account_sql(), [user_id, connection.ops.adapt_datetimefield_value(midnight), user_id, "api"])
        balance, total, today = cursor.fetchone()
    return balance or 0, int(today), int(total)


class AccountView(ApiView):
    @extend_schema(operation_id="account", responses={200: AccountSerializer, 401: ErrorSerializer})
    def get(self, request):
        user = request.user
        balance, today, total = account_counts(user.pk)
        window = ratelimit.generate_window(user)
        request.ratelimit_window = window
        return Response(
            {
                "success": True,
                "account": {
                    "user_id": user.pk,
                    "credits_remaining": balance,
                    "api_calls_today": today,
                    "api_calls_total": total,
                    "plan": user.plan,
                },
                "rate_limit": {"limit": window.limit, "remaining": window.remaining, "reset": window.reset},
                "webhook": {"signing_secret": webhook_secret(user)},
            }
        )


@extend_schema(exclude=True)
class NotFoundView(APIView):
    """Every other path under /api/v1: the JSON 404, whatever the method."""

    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]

    def get_exception_handler(self):
        return api_exception_handler

    def _not_found(self, request, *args, **kwargs):
        raise NotFound(f"No API endpoint at {request.path}.")

    get = post = put = patch = delete = head = options = _not_found


def floor_view(request):
    """Constant JSON through plain Django: the throughput floor bench/api.py compares against."""
    return JsonResponse({"success": True, "floor": True})
