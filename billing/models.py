from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class CreditBalance(models.Model):
    """The running balance of one user: the row that is locked while credits move."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    balance = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    # Credits taken back from refunded purchases, in all. Those may already have been spent, so the
    # balance can go below zero, but only by that much: spends and everything else never overdraw.
    reversed_total = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=-models.F("reversed_total")), name="credit_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class CreditEntry(models.Model):
    """One movement of credits. Append-only: rows are never updated or deleted by the application."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        PURCHASE = "purchase", "Purchase"
        SPEND = "spend", "Spend"
        REFUND = "refund", "Refund"
        # A purchase paid back through Stripe: its credits are taken back, even below zero.
        REVERSAL = "reversal", "Purchase reversal"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.IntegerField(help_text="Signed: positive adds credits, negative takes them.")
    balance_after = models.IntegerField()
    order = models.ForeignKey(
        "tryon.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="credit_entries"
    )
    reason = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text="External id, e.g. a payment id.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"
        constraints = [
            # An order is charged once and refunded at most once, whatever races happen.
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=models.Q(kind__in=["spend", "refund"]),
                name="one_spend_or_refund_per_order",
            ),
            models.UniqueConstraint(
                fields=["kind", "reference"], condition=~models.Q(reference=""), name="unique_entry_reference"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["grant", "purchase", "refund"], amount__gt=0)
                    | models.Q(kind__in=["spend", "reversal"], amount__lt=0)
                ),
                name="credit_entry_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} for {self.user_id}"


# --- Stripe Checkout purchases ---------------------------------------------------------------------


class PurchaseQuerySet(models.QuerySet):
    def for_user(self, user) -> PurchaseQuerySet:
        return self.filter(user=user)


class Purchase(models.Model):
    """One attempt to buy a credit pack through Stripe Checkout. The pack's credits and price are copied
    here when the purchase starts, so changing CREDIT_PACKS later does not change what was bought."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    pack_code = models.CharField(max_length=50)
    credits = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    stripe_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    receipt_url = models.URLField(max_length=500, blank=True)
    amount_refunded_cents = models.PositiveIntegerField(default=0)
    credits_reversed = models.PositiveIntegerField(default=0, help_text="Credits taken back after refunds.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    objects = PurchaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.pack_code} ({self.credits} credits) for {self.user_id}: {self.status}"

    @property
    def price(self) -> str:
        return f"{self.amount_cents / 100:.2f} {self.currency.upper()}"


class StripeEvent(models.Model):
    """A Stripe webhook event, stored by its unique id in the same transaction as its effects:
    a second delivery of the same event finds it here and changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    livemode = models.BooleanField(default=False)
    stripe_created = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    outcome = models.CharField(max_length=200, blank=True)
    purchase = models.ForeignKey(Purchase, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    payload = models.JSONField()

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
