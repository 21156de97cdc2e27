"""Per-endpoint reference of the OpenAPI document (descriptions and examples): what a client developer
reads in Swagger UI (/api/docs) and Redoc (/api/redoc). The overview (life cycle, credits, limits,
idempotency, webhooks, errors) is api/reference.md, the document's own description."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

TINY_JPEG = "/9j/4AAQSkZJRgABAQ..."  # examples only: a real request carries the whole base64 photo

GENERATE = """Create an order: a virtual try-on (`person_image` + `clothing_image`) or a product catalog
(`product_image` + `quantity` 6 or 12). Images are base64 strings (a `data:` URL prefix is fine) in a JSON
body, or files in a `multipart/form-data` body (then `options` is one JSON string field).

The credits are charged when the order is accepted (try-on 1, catalog 24 or 36) and refunded in full if it
fails. The answer is `202` with the `order_id` to poll (`GET /api/v1/orders/{order_id}`), or pass
`webhook_url` to be told. Unknown option keys and fields the style does not use are ignored and listed in
`warnings`. Send `Idempotency-Key` to make retries safe. Only requests that create an order count against
the plan's hourly and daily limits."""

ORDER = """One order of yours: `pending` (queued), `in_progress` (with `progress` 0-99, `stage` and
`estimated_completion`), `completed` (with `results`: the image URLs, and for a catalog the
`product_description`) or `failed` (with `error.code`, `error.message`; the credits were refunded).
Poll every 2-5 s until `completed` or `failed`. Another account's order is `404`."""

ORDERS = """Your orders, newest first, `page_size` (1-100, default 20) per page, with `pagination.next` and
`previous` links. Each order has the shape of `GET /api/v1/orders/{order_id}`."""

ACCOUNT = """Your balance (`credits_remaining`), orders created today (UTC) and in all (both the API and the
web forms, which share the limits), your plan, the hourly generate window (`rate_limit`, also in the
`X-RateLimit-*` headers) and `webhook.signing_secret`, the key that verifies webhook signatures."""

TRYON_REQUEST = OpenApiExample(
    "Virtual try-on",
    request_only=True,
    value={
        "style": "virtual_tryon",
        "person_image": TINY_JPEG,
        "clothing_image": TINY_JPEG,
        "options": {"quality": "high", "format": "jpg", "category": "auto"},
        "webhook_url": "https://example.com/hooks/ftmv",
    },
)
CATALOG_REQUEST = OpenApiExample(
    "Product catalog",
    request_only=True,
    value={"style": "product_catalog", "product_image": TINY_JPEG, "quantity": 6, "options": {"format": "png"}},
)
ACCEPTED = OpenApiExample(
    "Accepted",
    response_only=True,
    status_codes=["202"],
    value={
        "success": True,
        "order_id": 42,
        "status": "pending",
        "credits_used": 1,
        "message": "Order created successfully. Use the orders endpoint to check status.",
        "estimated_time": "30-60 seconds",
        "created_at": "2026-01-15T10:30:00+00:00",
    },
)
ACCEPTED_WITH_WARNINGS = OpenApiExample(
    "Accepted, something ignored",
    response_only=True,
    status_codes=["202"],
    value={
        **ACCEPTED.value,
        "warnings": ["options.seed is not an option of this service and was ignored."],
    },
)
INSUFFICIENT = OpenApiExample(
    "Not enough credits",
    response_only=True,
    status_codes=["402"],
    value={
        "success": False,
        "error": {
            "code": "INSUFFICIENT_CREDITS",
            "message": "Insufficient credits for this operation",
            "details": {"credits_required": 24, "credits_available": 10},
        },
    },
)
INVALID = OpenApiExample(
    "Invalid request",
    response_only=True,
    status_codes=["400"],
    value={
        "success": False,
        "error": {
            "code": "INVALID_REQUEST",
            "message": "clothing_image: Required for style virtual_tryon.",
            "details": {"clothing_image": ["Required for style virtual_tryon."]},
        },
    },
)
RATE_LIMITED = OpenApiExample(
    "Hourly limit reached",
    response_only=True,
    status_codes=["429"],
    value={
        "success": False,
        "error": {
            "code": "RATE_LIMIT_EXCEEDED",
            "message": "The hourly limit of 10 generate requests for the free plan is reached; retry in 1520 s.",
            "details": {"limit": 10, "window": "hourly", "reset": 1768476600},
        },
    },
)
IN_PROGRESS = OpenApiExample(
    "In progress",
    response_only=True,
    status_codes=["200"],
    value={
        "success": True,
        "order": {
            "id": 42,
            "style": "virtual_tryon",
            "status": "in_progress",
            "credits_used": 1,
            "created_at": "2026-01-15T10:30:00+00:00",
            "progress": 55,
            "stage": "garment",
            "estimated_completion": "2026-01-15T10:30:40+00:00",
        },
    },
)
COMPLETED = OpenApiExample(
    "Completed try-on",
    response_only=True,
    status_codes=["200"],
    value={
        "success": True,
        "order": {
            "id": 42,
            "style": "virtual_tryon",
            "status": "completed",
            "credits_used": 1,
            "created_at": "2026-01-15T10:30:00+00:00",
            "results": {
                "person_url": "https://ftmv.example.com/media/orders/42/person.jpg",
                "clothing_url": "https://ftmv.example.com/media/orders/42/clothing.jpg",
                "result_url": "https://ftmv.example.com/media/orders/42/result.jpg",
            },
            "completed_at": "2026-01-15T10:30:38+00:00",
            "processing_time": 37.6,
        },
    },
)
FAILED = OpenApiExample(
    "Failed (refunded)",
    response_only=True,
    status_codes=["200"],
    value={
        "success": True,
        "order": {
            "id": 43,
            "style": "virtual_tryon",
            "status": "failed",
            "credits_used": 0,
            "created_at": "2026-01-15T10:31:00+00:00",
            "error": {"code": "NO_PERSON", "message": "No person was found in the person photo."},
            "failed_at": "2026-01-15T10:31:09+00:00",
        },
    },
)
ACCOUNT_EXAMPLE = OpenApiExample(
    "Account",
    response_only=True,
    status_codes=["200"],
    value={
        "success": True,
        "account": {
            "user_id": 7,
            "credits_remaining": 24,
            "api_calls_today": 1,
            "api_calls_total": 1,
            "plan": "free",
        },
        "rate_limit": {"limit": 10, "remaining": 9, "reset": 1768478400},
        "webhook": {"signing_secret": "whsec_0123456789abcdef0123456789abcdef01234567"},
    },
)
