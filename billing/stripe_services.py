"""Buying credit packs through Stripe Checkout, and the webhook that turns payments into credits.

The flow: ``checkout_start`` records a pending Purchase and asks Stripe for a Checkout Session;
the customer pays on Stripe's page; Stripe calls the webhook, and ``webhook_process`` grants the
pack's credits. The success page never grants anything: only a signed event does, so a customer
who reloads or forges the success URL gets nothing.

Exactly-once: each event is stored by its unique id in the same transaction as its effects,
so a replayed (or concurrently duplicated) event changes nothing; the Purchase row is locked
while its state changes, so two different events about one payment (``completed`` and
``async_payment_succeeded``) cannot both grant; and the ledger's unique payment reference backs
both up.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from stripe._base_address import BaseAddresses  # the TypedDict StripeClient takes; not re-exported

from .models import Purchase, StripeEvent
from .packs import credit_pack
from .services import User, credits_purchase, credits_reverse

log = logging.getLogger(__name__)


class BillingDisabled(Exception):
    """No Stripe keys are configured: nothing can be bought (staff can still grant credits)."""


class UnknownPack(Exception):
    pass


class CheckoutFailed(Exception):
    """Stripe could not be asked for a Checkout Session; nothing was charged."""


class WebhookRejected(Exception):
    """Bad or missing signature, or not a Stripe event: answer 400, change nothing."""


class RetryLater(Exception):
    """A temporary condition: answer 5xx so that Stripe delivers the event again later."""


def billing_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


def stripe_client() -> stripe.StripeClient:
    """A client configured from settings; STRIPE_API_BASE points it at a fake in tests."""
    if not billing_enabled():
        raise BillingDisabled
    base: BaseAddresses | None = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,
        max_network_retries=2,  # with our idempotency key, a retried create cannot make a second session
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
    )


# --- Checkout -------------------------------------------------------------------------------------


def checkout_start(*, user: User, pack_code: str, success_url: str, cancel_url: str) -> tuple[Purchase, str]:
    """Record a pending purchase and create its Checkout Session; returns the purchase and the URL to send
    the customer to. The URLs may contain ``{PURCHASE_ID}`` (our id, filled in here) and the success URL
    Stripe's ``{CHECKOUT_SESSION_ID}``."""
    if not billing_enabled():
        raise BillingDisabled
    pack = credit_pack(pack_code)
    if pack is None:
        raise UnknownPack(pack_code)
    purchase = Purchase.objects.create(
        user_id=user.pk,
        pack_code=pack.code,
        credits=pack.credits,
        amount_cents=pack.price_cents,
        currency=settings.STRIPE_CURRENCY,
    )
    metadata = {
        "purchase_id": str(purchase.public_id),
        "user_id": str(user.pk),
        "pack": pack.code,
        "credits": str(pack.credits),
    }
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": purchase.currency,
                    "unit_amount": purchase.amount_cents,
                    "product_data": {"name": f"{pack.name}: {pack.credits} credits"},
                },
            }
        ],
        "client_reference_id": str(user.pk),
        "customer_email": user.email,
        "metadata": metadata,
        # Copied onto the PaymentIntent (and so onto its charge): refunds can be traced back to us.
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url.replace("{PURCHASE_ID}", str(purchase.public_id)),
        "cancel_url": cancel_url.replace("{PURCHASE_ID}", str(purchase.public_id)),
    }
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            # One key per purchase: if this request is retried, Stripe answers with the same session.
            options={"idempotency_key": f"ftmv-checkout-{purchase.public_id}"},
        )
    except stripe.StripeError as exc:
        log.warning("checkout session for purchase %s failed: %s", purchase.public_id, exc)
        Purchase.objects.filter(pk=purchase.pk).update(
            status=Purchase.Status.FAILED, failure_reason=f"checkout not created: {exc.user_message or exc}"[:200]
        )
        raise CheckoutFailed(str(exc)) from exc
    purchase.stripe_session_id = session.id
    purchase.save(update_fields=["stripe_session_id", "updated_at"])
    return purchase, session.url or ""


def purchase_receipt_url(purchase: Purchase) -> str | None:
    """Stripe's receipt page for a paid purchase, fetched once from the PaymentIntent's charge and kept."""
    if purchase.receipt_url or not purchase.stripe_payment_intent_id or not billing_enabled():
        return purchase.receipt_url or None
    try:
        intent = stripe_client().v1.payment_intents.retrieve(
            purchase.stripe_payment_intent_id, params={"expand": ["latest_charge"]}
        )
    except stripe.StripeError as exc:
        log.warning("receipt for purchase %s unavailable: %s", purchase.public_id, exc)
        return None
    charge = intent.latest_charge
    url = getattr(charge, "receipt_url", None) if charge is not None and not isinstance(charge, str) else None
    if url:
        Purchase.objects.filter(pk=purchase.pk).update(receipt_url=url)
        purchase.receipt_url = url
    return url


# --- Webhook --------------------------------------------------------------------------------------


def webhook_process(payload: bytes, signature: str | None) -> str:
    """Verify and apply one webhook delivery; returns what was done (for the log and the stored event).

    Raises WebhookRejected (answer 400) or RetryLater (answer 503). Any other exception means the
    transaction rolled back, the event is not stored, and Stripe will deliver it again."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRejected("billing is not configured")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_TOLERANCE
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise WebhookRejected(str(exc)) from exc
    if not isinstance(event, dict) or event.get("object") != "event" or not event.get("id") or not event.get("type"):
        raise WebhookRejected("not a Stripe event")

    with transaction.atomic():
        try:
            with transaction.atomic():
                # The unique event id: a concurrent duplicate waits here for the first to commit, then fails.
                record = StripeEvent.objects.create(
                    event_id=str(event["id"])[:255],
                    type=str(event["type"])[:100],
                    livemode=bool(event.get("livemode")),
                    stripe_created=_timestamp(event.get("created")),
                    payload=event,
                )
        except IntegrityError:
            return "duplicate: already processed"
        obj = (event.get("data") or {}).get("object") or {}
        handler = _HANDLERS.get(record.type)
        outcome = handler(obj, record) if handler else "ignored: event type not handled"
        record.outcome = outcome[:200]
        record.save(update_fields=["outcome", "purchase"])
    log.info("stripe event %s (%s): %s", record.event_id, record.type, outcome)
    return outcome


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if isinstance(value, int) else None


def _locked_purchase_for_session(session: dict) -> Purchase | None:
    """Our purchase for a Checkout Session, locked: by the session id, or by the id we put in the metadata
    (which also finds a session whose creation response we never saw, e.g. after a timeout)."""
    qs = Purchase.objects.select_for_update()
    purchase = qs.filter(stripe_session_id=session.get("id")).first() if session.get("id") else None
    if purchase is None:
        public_id = (session.get("metadata") or {}).get("purchase_id")
        if public_id:
            try:
                purchase = qs.filter(public_id=public_id, stripe_session_id__isnull=True).first()
            except ValidationError:  # a malformed uuid is just "not ours"
                purchase = None
            if purchase is not None and str(purchase.user_id) != str(session.get("client_reference_id")):
                return None
            if purchase is not None:
                purchase.stripe_session_id = session["id"]
    return purchase


def _on_session_completed(session: dict, record: StripeEvent) -> str:
    purchase = _locked_purchase_for_session(session)
    if purchase is None:
        return "ignored: no matching purchase"
    record.purchase = purchase
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return _fulfil(purchase, session)
    # Delayed payment methods (bank debits): the money is not there yet; an async_payment event follows.
    purchase.stripe_payment_intent_id = session.get("payment_intent") or purchase.stripe_payment_intent_id
    purchase.save(update_fields=["stripe_session_id", "stripe_payment_intent_id", "updated_at"])
    return "waiting: payment not yet received"


def _on_async_payment_succeeded(session: dict, record: StripeEvent) -> str:
    purchase = _locked_purchase_for_session(session)
    if purchase is None:
        return "ignored: no matching purchase"
    record.purchase = purchase
    return _fulfil(purchase, session)


def _on_session_failed(session: dict, record: StripeEvent, reason: str) -> str:
    purchase = _locked_purchase_for_session(session)
    if purchase is None:
        return "ignored: no matching purchase"
    record.purchase = purchase
    if purchase.status != Purchase.Status.PENDING:
        return f"ignored: purchase already {purchase.status}"
    purchase.status = Purchase.Status.FAILED
    purchase.failure_reason = reason
    purchase.save(update_fields=["status", "failure_reason", "stripe_session_id", "updated_at"])
    return f"purchase failed: {reason}"


def _fulfil(purchase: Purchase, session: dict) -> str:
    """Grant the pack's credits, once, in the caller's transaction, together with the purchase's state."""
    if purchase.status in (Purchase.Status.PAID, Purchase.Status.REFUNDED):
        return f"ignored: purchase already {purchase.status}"
    # The amount was set by us when the session was created; a different one means a configuration
    # problem worth a warning, but the customer did pay and gets what the purchase promised.
    if session.get("amount_total") not in (None, purchase.amount_cents):
        log.warning(
            "purchase %s: paid %s, expected %s", purchase.public_id, session.get("amount_total"), purchase.amount_cents
        )
    entry = credits_purchase(
        purchase.user,
        purchase.credits,
        reference=f"stripe:{purchase.stripe_session_id}",
        reason=f"{purchase.pack_code} pack ({purchase.credits} credits)",
    )
    purchase.status = Purchase.Status.PAID
    purchase.failure_reason = ""
    purchase.paid_at = timezone.now()
    purchase.stripe_payment_intent_id = session.get("payment_intent") or purchase.stripe_payment_intent_id
    purchase.save(
        update_fields=[
            "status",
            "failure_reason",
            "paid_at",
            "stripe_session_id",
            "stripe_payment_intent_id",
            "updated_at",
        ]
    )
    if entry is None:  # the ledger already had this payment: the unique reference caught a replay
        return "purchase marked paid; credits were already granted"
    return f"granted {purchase.credits} credits"


def _purchase_exists(public_id: object) -> bool:
    try:
        return Purchase.objects.filter(public_id=uuid.UUID(str(public_id))).exists()
    except ValueError:  # not even a UUID: not one of ours
        return False


def _on_charge_refunded(charge: dict, record: StripeEvent) -> str:
    """Take back credits in proportion to the amount refunded so far. What is already spent cannot be
    taken back: the balance goes negative by that much, visible in the admin and settled by the next
    purchase."""
    intent_id = charge.get("payment_intent")
    ours = (charge.get("metadata") or {}).get("purchase_id")
    purchase = (
        Purchase.objects.select_for_update().filter(stripe_payment_intent_id=intent_id).first() if intent_id else None
    )
    if purchase is None:
        if ours and _purchase_exists(ours):
            # Our charge, but the payment's own event has not been applied yet (Stripe does not
            # guarantee order): ask Stripe to deliver this one again later.
            raise RetryLater(f"refund for purchase {ours} arrived before its payment")
        if ours:
            # Metadata names a purchase this site never had (another instance on the same Stripe
            # account, a restored database...): no delivery will ever find it, so answering 503 would
            # only make Stripe retry for days and then disable the endpoint. Acknowledged and logged.
            log.warning("charge.refunded %s names purchase %s, unknown here: ignored", charge.get("id"), ours)
            return "ignored: unknown purchase"
        return "ignored: no matching purchase"
    record.purchase = purchase
    if purchase.status not in (Purchase.Status.PAID, Purchase.Status.REFUNDED):
        raise RetryLater(f"refund for purchase {purchase.public_id} arrived before its payment")
    refunded = min(int(charge.get("amount_refunded") or 0), purchase.amount_cents)
    # Cumulative: each charge.refunded event carries the total refunded so far, so partial refunds add up.
    target = purchase.credits if charge.get("refunded") else purchase.credits * refunded // purchase.amount_cents
    take = target - purchase.credits_reversed
    purchase.amount_refunded_cents = max(purchase.amount_refunded_cents, refunded)
    if charge.get("refunded"):
        purchase.status = Purchase.Status.REFUNDED
    if take > 0:
        credits_reverse(
            purchase.user,
            take,
            reference=f"stripe-refund:{charge.get('id')}:{refunded}",
            reason=f"refund of {purchase.pack_code} pack ({refunded / 100:.2f} {purchase.currency})",
        )
        purchase.credits_reversed += take
    purchase.save(update_fields=["status", "amount_refunded_cents", "credits_reversed", "updated_at"])
    return f"refunded {refunded} cents: took back {max(take, 0)} credits"


_HANDLERS = {
    "checkout.session.completed": _on_session_completed,
    "checkout.session.async_payment_succeeded": _on_async_payment_succeeded,
    "checkout.session.async_payment_failed": lambda s, r: _on_session_failed(s, r, "payment failed"),
    "checkout.session.expired": lambda s, r: _on_session_failed(s, r, "checkout expired"),
    "charge.refunded": _on_charge_refunded,
}
