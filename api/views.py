"""/api/v1: thin views over the order domain (tryon.services, tryon.selectors, tryon.presenters)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from tryon import ratelimit
from tryon.errors import InvalidRequest, NotFound, PayloadTooLarge
from tryon.order_request import GenerateRequestSerializer
from tryon.presenters import base_url_for, order_json, webhook_secret
from tryon.selectors import account_counts, find_order, orders_of
from tryon.services import order_submit

from . import docs
from .authentication import ApiKeyAuthentication
from .exceptions import OUTAGES, api_exception_handler
from .parsers import BoundedJSONParser
from .serializers import (
    AcceptedSerializer,
    AccountSerializer,
    ErrorSerializer,
    OrderListSerializer,
    OrderResponseSerializer,
)
from .throttling import poll_hit

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 404, 429)}


class HasApiKey(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.auth is not None


class ApiView(APIView):
    """Bearer API key, JSON only, one error shape, X-RateLimit-* on every authenticated response."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes: list = []
    counts_as_poll = True

    def get_exception_handler(self):
        return api_exception_handler

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if self.counts_as_poll:
            poll_hit(request.auth.pk)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        user = getattr(request, "_user", None)  # set once authentication ran; None when it failed
        if user is not None and not response.has_header("X-RateLimit-Limit"):
            try:
                window = getattr(request, "ratelimit_window", None) or ratelimit.generate_window(user)
            except OUTAGES:
                return response  # the cache is down: the answer (a 503 already, or data) goes without headers
            for name, value in ratelimit.headers_for(window).items():
                response[name] = value
        return response


class GenerateView(ApiView):
    parser_classes = [BoundedJSONParser, MultiPartParser, FormParser]
    counts_as_poll = False

    @extend_schema(
        operation_id="generate",
        summary="Create a try-on or catalog order",
        description=docs.GENERATE,
        examples=[
            docs.TRYON_REQUEST,
            docs.CATALOG_REQUEST,
            docs.ACCEPTED,
            docs.ACCEPTED_WITH_WARNINGS,
            docs.INVALID,
            docs.INSUFFICIENT,
            docs.RATE_LIMITED,
        ],
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
        responses={
            202: AcceptedSerializer,
            402: ErrorSerializer,
            413: ErrorSerializer,
            422: ErrorSerializer,  # Idempotency-Key reused with a different request
            **ERRORS,
        },
    )
    def post(self, request):
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.API_MAX_REQUEST_BYTES:
            # Refused before reading (or counting) anything: the body is never taken in.
            raise PayloadTooLarge(f"The request body is {length} bytes; the limit is {settings.API_MAX_REQUEST_BYTES}.")
        submitted = order_submit(
            user=request.user,
            # Read only once the call is counted: a body that does not parse is a counted call too.
            read_fields=lambda: request.data,
            idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
            base_url=base_url_for(request),
        )
        request.ratelimit_window = submitted.window
        headers = {} if submitted.created else {"Idempotent-Replayed": "true"}
        return Response(submitted.response, status=202, headers=headers)


class OrderDetailView(ApiView):
    @extend_schema(
        operation_id="order",
        summary="Get an order's status and results",
        description=docs.ORDER,
        examples=[docs.IN_PROGRESS, docs.COMPLETED, docs.FAILED],
        responses={200: OrderResponseSerializer, **ERRORS},
    )
    def get(self, request, order_id: int):
        order, files = find_order(request.user.pk, order_id)
        if order is None:
            raise NotFound(f"Order {order_id} not found.")
        return Response({"success": True, "order": order_json(order, base_url_for(request), files)})


class OrderListView(ApiView):
    MAX_PAGE_SIZE = 100

    @extend_schema(
        operation_id="orders",
        summary="List your orders",
        description=docs.ORDERS,
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int, description="1-100, 20")],
        responses={200: OrderListSerializer, **ERRORS},
    )
    def get(self, request):
        try:
            page = max(1, int(request.query_params.get("page", 1)))
            size = min(self.MAX_PAGE_SIZE, max(1, int(request.query_params.get("page_size", 20))))
        except ValueError:
            raise InvalidRequest("page and page_size must be whole numbers.") from None
        orders = orders_of(request.user)
        total = orders.count()
        # A page past the end is empty without asking the database: an offset of 10**20 overflows its
        # integer type (a 500) although the answer is plainly "no orders".
        rows = orders.prefetch_related("files")[(page - 1) * size : page * size] if (page - 1) * size < total else []
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


class AccountView(ApiView):
    @extend_schema(
        operation_id="account",
        summary="Your credits, usage, limits and webhook secret",
        description=docs.ACCOUNT,
        examples=[docs.ACCOUNT_EXAMPLE],
        responses={200: AccountSerializer, 401: ErrorSerializer},
    )
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
    parser_classes = [BoundedJSONParser]

    def get_exception_handler(self):
        return api_exception_handler

    def _not_found(self, request, *args, **kwargs):
        raise NotFound(f"No API endpoint at {request.path}.")

    get = post = put = patch = delete = head = options = _not_found
