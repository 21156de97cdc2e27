from __future__ import annotations

from django.conf import settings
from django.db import models


class CreditBalance(models.Model):
    """The running balance of one user: the row that is locked while credits move."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    balance = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(balance__gte=0), name="credit_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class CreditEntry(models.Model):
    """One movement of credits. Append-only: rows are never updated or deleted by the application."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        PURCHASE = "purchase", "Purchase"
        SPEND = "spend", "Spend"
        REFUND = "refund", "Refund"

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
                    | models.Q(kind="spend", amount__lt=0)
                ),
                name="credit_entry_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} for {self.user_id}"
