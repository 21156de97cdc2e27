"""Account pages: the API-key settings page (session login). The dashboard, which shows orders,
credits and limits together, is one of the site's pages in web/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .forms import ApiKeyCreateForm
from .models import ApiKey
from .services import apikey_create, apikey_revoke


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
