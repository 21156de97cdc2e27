"""Browser pages: landing, pricing, the dashboard, the two upload forms, order pages, files and the gallery.

Views stay thin: orders are submitted through tryon.services.order_submit, the use case the API calls
too (same rules, same order, same counting), and every order, file and thumbnail is reached through the
owner (tryon.selectors), so another user's ids answer 404.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import ApiKey
from billing.packs import credit_packs
from billing.services import credits_balance, credits_refunded
from billing.stripe_services import billing_enabled
from imaging import stages
from tryon.archives import catalog_records, download_name, ensure_catalog_zip
from tryon.errors import ApiError, InvalidFields
from tryon.models import Order, OrderFile
from tryon.presenters import base_url_for
from tryon.ratelimit import generate_window, plan_limits
from tryon.selectors import account_counts, order_of, orders_of
from tryon.services import order_submit
from tryon.thumbnails import ensure_thumbnail, thumbnail_source

from .forms import CatalogForm, TryonForm

RECENT_ORDERS = 6

# The progress steps shown on the order page: (label, progress at which the step starts).
STEPS = {
    Order.Style.VIRTUAL_TRYON: [
        ("Queued", 0),
        ("Loading photos", 1),
        ("Person and pose", 10),
        ("Garment cut-out", 55),
        ("Fitting", 75),
        ("Compositing", 95),
    ],
    Order.Style.PRODUCT_CATALOG: [
        ("Queued", 0),
        ("Loading photo", 1),
        ("Cut-out", 10),
        ("Rendering", 30),
        ("Finishing", 95),
    ],
}

GALLERY_PAGE_SIZE = 24

# Real example outputs for the landing page: made by `manage.py tryon` / `manage.py catalog` from
# public-domain inputs and committed under static/img/examples/ with this manifest.
EXAMPLES_MANIFEST = settings.BASE_DIR / "static" / "img" / "examples" / "examples.json"


def landing_examples() -> list[dict]:
    """The examples listed in the manifest (none until it exists: the section is then left out)."""
    try:
        examples = json.loads(EXAMPLES_MANIFEST.read_text())
    except FileNotFoundError:
        return []
    for example in examples:
        for image in example["images"]:
            image["src"] = static(f"img/examples/{image['file']}")
    return examples


def stage_label(order: Order) -> str:
    """What people read for the order's stage: the one stage table the engines report from."""
    return stages.stage_label(order.stage)


def _costs_context() -> dict:
    return {
        "cost_tryon": settings.CREDIT_COST_TRYON,
        "catalog_costs": sorted(settings.CREDIT_COST_CATALOG.items()),
        "signup_credits": settings.SIGNUP_FREE_CREDITS,
        "plans": list(settings.API_PLANS.items()),
    }


@require_GET
def landing(request):
    return render(request, "pages/landing.html", {**_costs_context(), "examples": landing_examples()})


@require_GET
def pricing(request):
    return render(request, "pages/pricing.html", {**_costs_context(), "packs": credit_packs()})


@login_required
@require_GET
def dashboard(request):
    user = request.user
    orders = orders_of(user)
    window = generate_window(user)
    limits = plan_limits(user)
    # The same numbers as GET /api/v1/account (credits_remaining, api_calls_today, api_calls_total).
    balance, orders_today, orders_total = account_counts(user.pk)
    context = {
        "credits": balance,
        "plan": user.get_plan_display(),
        "limits": limits,
        "orders_today": orders_today,
        "orders_total": orders_total,
        "in_flight": orders.in_flight().count(),
        "hour_used": window.used,
        "hour_limit": window.limit,
        "hour_remaining": window.remaining,
        "hour_percent": min(100, round(100 * window.used / window.limit)) if window.limit else 100,
        "hour_reset": datetime.fromtimestamp(window.reset, tz=UTC),
        "recent": orders[:RECENT_ORDERS],
        "active_keys": ApiKey.objects.filter(user=user, revoked_at__isnull=True).count(),
    }
    return render(request, "web/dashboard.html", context)


# --- Upload forms ---------------------------------------------------------------------------------


def _field_message(message: str, field: str) -> str:
    """The API names the JSON field ('person_image' is too small...); next to the form field say "This photo"."""
    quoted = f"'{field}'"
    return "This photo" + message[len(quoted) :] if message.startswith(quoted) else message


class _FormIncomplete(ApiError):
    """The form itself did not validate (a missing file, an unknown choice): its errors are on it already."""


def submit_order(request, form, *, style: str) -> Order | None:
    """Submit the form's inputs through the order use case; its refusal is put on the form."""

    def read_fields() -> dict:
        # Called by order_submit after the call is counted, as the API's body is read then too.
        if not form.is_valid():
            raise _FormIncomplete("The form has errors.")
        data = {"style": style, **form.images(), "options": form.options()}
        if "quantity" in form.cleaned_data:
            data["quantity"] = form.cleaned_data["quantity"]
        return data

    try:
        submitted = order_submit(
            user=request.user, read_fields=read_fields, base_url=base_url_for(request), source="web"
        )
    except _FormIncomplete:
        return None
    except InvalidFields as exc:
        _fields_to_form(form, exc.fields)
        return None
    except ApiError as exc:
        field = exc.details.get("field", "")
        if field in form.fields:
            form.add_error(field, _field_message(exc.message, field))
        else:
            form.add_error(None, exc.message)
        return None
    return submitted.order


def _fields_to_form(form, fields) -> None:
    """Each rule's complaint next to its form field (options' own fields included), else above the form."""
    for name, errors in fields.items():
        if isinstance(errors, dict):  # options: {"category": [...]}
            _fields_to_form(form, errors)
            continue
        target = name if name in form.fields else None
        for error in errors if isinstance(errors, list) else [str(errors)]:
            form.add_error(target, str(error))


def _form_context(request, form, *, cheapest: int, **extra) -> dict:
    """The form with the user's balance and what the order costs, shown before anything is uploaded: a
    user who cannot afford the cheapest order sees why, and the way forward, instead of an upload
    refused afterwards."""
    credits = credits_balance(request.user)
    return {
        "form": form,
        "credits": credits,
        "cheapest": cheapest,
        "short_by": max(0, cheapest - credits),
        "billing_enabled": billing_enabled(),
        **_costs_context(),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def tryon_new(request):
    form = TryonForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        order = submit_order(request, form, style=Order.Style.VIRTUAL_TRYON)
        if order is not None:
            messages.success(request, f"Order {order.pk} accepted: {order.credits_used} credit used.")
            return redirect("order_detail", pk=order.pk)
    status = 400 if form.is_bound else 200
    context = _form_context(request, form, cheapest=settings.CREDIT_COST_TRYON)
    return render(request, "web/tryon_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def catalog_new(request):
    form = CatalogForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        order = submit_order(request, form, style=Order.Style.PRODUCT_CATALOG)
        if order is not None:
            messages.success(request, f"Order {order.pk} accepted: {order.credits_used} credits used.")
            return redirect("order_detail", pk=order.pk)
    status = 400 if form.is_bound else 200
    cost_map = json.dumps({str(q): c for q, c in settings.CREDIT_COST_CATALOG.items()})
    context = _form_context(request, form, cheapest=min(settings.CREDIT_COST_CATALOG.values()), cost_map=cost_map)
    return render(request, "web/catalog_form.html", context, status=status)


# --- Orders -----------------------------------------------------------------------------------------


def _own_order(request, pk: int) -> Order:
    order = order_of(request.user, pk)
    if order is None:
        raise Http404
    return order


@login_required
@require_GET
def order_detail(request, pk: int):
    order = _own_order(request, pk)
    files = list(order.files.all())
    by_role: dict[str, list[OrderFile]] = {}
    for record in files:
        by_role.setdefault(record.role, []).append(record)
    for records in by_role.values():
        records.sort(key=lambda r: r.position)
        for record in records:
            record.label = record.name.replace("_", " ")  # type: ignore[attr-defined]  # the template's caption
    steps = STEPS.get(Order.Style(order.style), [])
    step_rows = [
        {"label": label, "at": at, "next": steps[i + 1][1] if i + 1 < len(steps) else 100}
        for i, (label, at) in enumerate(steps)
    ]
    context = {
        "order": order,
        "person": next(iter(by_role.get(OrderFile.Role.PERSON, [])), None),
        "clothing": next(iter(by_role.get(OrderFile.Role.CLOTHING, [])), None),
        "product": next(iter(by_role.get(OrderFile.Role.PRODUCT, [])), None),
        "result": next(iter(by_role.get(OrderFile.Role.RESULT, [])), None),
        "catalog": by_role.get(OrderFile.Role.CATALOG, []),
        "stage_label": stage_label(order),
        "steps": step_rows,
        "refunded": credits_refunded(order) if order.status == Order.Status.FAILED else 0,
    }
    return render(request, "web/order_detail.html", context)


@never_cache
@login_required
@require_GET
def order_status(request, pk: int):
    """The small JSON the order page polls (session login; not part of the public API)."""
    order = get_object_or_404(orders_of(request.user), pk=pk)
    return JsonResponse(
        {
            "id": order.pk,
            "status": order.status,
            "status_label": order.get_status_display(),
            "progress": order.progress,
            "stage": order.stage,
            "stage_label": stage_label(order),
            "finished": order.is_finished,
        }
    )


@login_required
@require_GET
def order_file(request, pk: int, file_id: int):
    """One of the order's images, inline or (?download=1) as an attachment."""
    order = _own_order(request, pk)
    record = next((f for f in order.files.all() if f.pk == file_id), None)
    if record is None:
        raise Http404
    attachment = request.GET.get("download") == "1"
    response = FileResponse(record.file.open("rb"), as_attachment=attachment, filename=download_name(order, record))
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def order_file_thumb(request, pk: int, file_id: int):
    """A stored thumbnail of one of the order's images (grids show these, linking to the full image)."""
    order = _own_order(request, pk)
    record = next((f for f in order.files.all() if f.pk == file_id), None)
    if record is None:
        raise Http404
    response = FileResponse(default_storage.open(ensure_thumbnail(record), "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"  # a file never changes once stored
    return response


@login_required
@require_GET
def order_zip(request, pk: int):
    """All catalog images of a completed order in one zip (built once and stored: tryon.archives)."""
    order = _own_order(request, pk)
    records = catalog_records(list(order.files.all()))
    if order.status != Order.Status.COMPLETED or not records:
        raise Http404
    return FileResponse(
        default_storage.open(ensure_catalog_zip(order, records), "rb"),
        as_attachment=True,
        filename=f"ftmv-order-{order.pk}-catalog.zip",
        content_type="application/zip",
    )


@login_required
@require_GET
def order_thumb(request, pk: int):
    """The order's gallery thumbnail, made once and stored (see tryon.thumbnails)."""
    order = _own_order(request, pk)
    record = thumbnail_source(order, list(order.files.all()))
    if record is None:
        raise Http404
    name = ensure_thumbnail(record)
    response = FileResponse(default_storage.open(name, "rb"), content_type="image/jpeg")
    # A finished order's thumbnail never changes; an unfinished one switches to the result later.
    finished = order.status == Order.Status.COMPLETED
    response["Cache-Control"] = "private, max-age=86400" if finished else "private, no-cache"
    return response


@login_required
@require_GET
def gallery(request):
    style = request.GET.get("style", "")
    status = request.GET.get("status", "")
    style = style if style in Order.Style.values else ""
    status = status if status in Order.Status.values else ""
    orders = orders_of(request.user, style=style, status=status)
    page = Paginator(orders, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in (("style", style), ("status", status)) if v)
    return render(
        request,
        "web/gallery.html",
        {
            "page": page,
            "style": style,
            "status": status,
            "styles": Order.Style.choices,
            "statuses": Order.Status.choices,
            "query": query,
            "new_order_url": reverse("tryon_new"),
        },
    )
