"""Account pages: the dashboard and the API-key settings page (session login)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from billing.services import credits_balance
from tryon.models import Order
from tryon.ratelimit import generate_window, plan_limits

from .forms import ApiKeyCreateForm
from .models import ApiKey
from .services import apikey_create, apikey_revoke

RECENT_ORDERS = 6


@login_required
@require_GET
def dashboard(request):
    user = request.user
    orders = Order.objects.for_user(user)
    start_of_day = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window = generate_window(user)
    limits = plan_limits(user)
    context = {
        "credits": credits_balance(user),
        "plan": user.get_plan_display(),
        "limits": limits,
        "orders_today": orders.filter(created_at__gte=start_of_day).count(),
        "orders_total": orders.count(),
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


@never_cache  # the response to a create carries the new key: never store it anywhere
@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request):
    form = ApiKeyCreateForm(request.POST or None)
    new_key = None
    created = None
    if request.method == "POST" and form.is_valid():
        # Shown in this response only (no redirect through the session): the raw key is stored nowhere.
        created, new_key = apikey_create(user=request.user, name=form.cleaned_data["name"])
        form = ApiKeyCreateForm()
    keys = ApiKey.objects.filter(user=request.user).order_by("revoked_at", "-created_at")
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        "web/api_keys.html",
        {"form": form, "keys": keys, "new_key": new_key, "created": created},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_key_revoke(request, pk: int):
    key = get_object_or_404(ApiKey, pk=pk, user=request.user)
    if request.method == "POST":
        apikey_revoke(key=key)
        messages.success(request, f"The key “{key.name}” ({key.prefix}…) is revoked; requests using it now get 401.")
        return redirect("api_keys")
    return render(request, "web/api_key_revoke.html", {"key": key})
