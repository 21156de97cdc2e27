"""Billing pages (packs, buy buttons, purchase history) and the Stripe webhook endpoint. Thin: the work
is in billing.stripe_services."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import CreditEntry, Purchase
from .packs import credit_packs
from .services import User, credits_balance
from .stripe_services import (
    BillingDisabled,
    CheckoutFailed,
    RetryLater,
    UnknownPack,
    WebhookRejected,
    billing_enabled,
    checkout_start,
    purchase_receipt_url,
    webhook_process,
)

log = logging.getLogger(__name__)


def _customer(request: HttpRequest) -> User:
    """The logged-in user (every page here is login_required)."""
    user = request.user
    assert isinstance(user, User)
    return user


def _absolute(request: HttpRequest, path: str) -> str:
    # Behind a proxy SITE_URL is the public address Stripe must send the customer back to.
    return settings.SITE_URL + path if settings.SITE_URL else request.build_absolute_uri(path)


@login_required
def billing_page(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    purchases = Purchase.objects.for_user(customer)[:50]
    return render(
        request,
        "billing/billing.html",
        {
            "packs": credit_packs(),
            "billing_enabled": billing_enabled(),
            "balance": credits_balance(customer),
            "purchases": purchases,
            "entries": CreditEntry.objects.filter(user_id=customer.pk).select_related("order")[:20],
        },
    )


@login_required
@require_POST
def checkout(request: HttpRequest, pack_code: str) -> HttpResponse:
    try:
        _, url = checkout_start(
            user=_customer(request),
            pack_code=pack_code,
            # Stripe puts the session id in; the page looks the purchase up by it, for its owner only.
            success_url=_absolute(request, reverse("billing:success")) + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=_absolute(request, reverse("billing:cancel")) + "?purchase={PURCHASE_ID}",
        )
    except BillingDisabled:
        messages.warning(
            request,
            "Billing is not enabled on this site, so credits cannot be bought here. "
            "Ask an administrator to add credits to your account.",
        )
        return redirect("billing:page")
    except UnknownPack:
        messages.error(request, "That credit pack does not exist.")
        return redirect("billing:page")
    except CheckoutFailed:
        messages.error(request, "The payment provider could not be reached. Nothing was charged; please try again.")
        return redirect("billing:page")
    return redirect(url, permanent=False)


@login_required
def checkout_success(request: HttpRequest) -> HttpResponse:
    """Shows the purchase's state only; the credits come with Stripe's signed webhook."""
    purchase = get_object_or_404(
        Purchase.objects.for_user(_customer(request)), stripe_session_id=request.GET.get("session_id") or "-"
    )
    return render(
        request, "billing/purchase.html", {"purchase": purchase, "balance": credits_balance(_customer(request))}
    )


@login_required
def checkout_cancel(request: HttpRequest) -> HttpResponse:
    purchase = get_object_or_404(
        Purchase.objects.for_user(_customer(request)), public_id=_uuid_or_none(request.GET.get("purchase"))
    )
    return render(
        request,
        "billing/purchase.html",
        {"purchase": purchase, "balance": credits_balance(_customer(request)), "canceled": True},
    )


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


@login_required
def receipt(request: HttpRequest, public_id) -> HttpResponse:
    purchase = get_object_or_404(Purchase.objects.for_user(_customer(request)), public_id=public_id)
    url = purchase_receipt_url(purchase)
    if not url:
        messages.info(request, "No receipt is available for this purchase yet.")
        return redirect("billing:page")
    return redirect(url)


@csrf_exempt  # Stripe signs the body instead; there is no session or CSRF token in a webhook
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        outcome = webhook_process(request.body, request.headers.get("Stripe-Signature"))
    except WebhookRejected as exc:
        log.warning("stripe webhook rejected: %s", exc)
        return JsonResponse({"received": False, "error": "invalid signature or payload"}, status=400)
    except (RetryLater, DatabaseError) as exc:
        # Nothing was stored: Stripe delivers the event again later.
        log.warning("stripe webhook deferred: %s", exc)
        return JsonResponse({"received": False, "error": "try again later"}, status=503)
    return JsonResponse({"received": True, "outcome": outcome})
