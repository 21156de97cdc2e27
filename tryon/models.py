from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class OrderQuerySet(models.QuerySet):
    def for_user(self, user) -> OrderQuerySet:
        """Tenant data is only reached through its owner."""
        return self.filter(user=user)

    def in_flight(self) -> OrderQuerySet:
        return self.filter(status__in=[Order.Status.PENDING, Order.Status.IN_PROGRESS])


class Order(models.Model):
    """One generation request of either style, from acceptance to its results."""

    class Style(models.TextChoices):
        VIRTUAL_TRYON = "virtual_tryon", "Virtual try-on"
        PRODUCT_CATALOG = "product_catalog", "Product catalog"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders")
    style = models.CharField(max_length=20, choices=Style.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=40, blank=True)
    # quality, format, category (try-on)
    options = models.JSONField(default=dict, blank=True)
    quantity = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Catalog images requested.")
    credits_used = models.PositiveIntegerField(default=0)
    product_description = models.TextField(blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker started this order.")

    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_attempts = models.PositiveSmallIntegerField(default=0)
    webhook_delivered_at = models.DateTimeField(null=True, blank=True)
    # When the next delivery attempt is due (or, while one runs, when its lease ends): beat's
    # resume_webhooks re-queues deliveries whose message was lost with a crashed worker.
    webhook_next_at = models.DateTimeField(null=True, blank=True)

    idempotency_key = models.CharField(max_length=255, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    # Where the client reached us: the worker builds absolute URLs (webhooks) from it when SITE_URL is unset.
    base_url = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=10, default="api", help_text="api or web")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Set when the retention sweep deleted the order's photos and results (MEDIA_RETENTION_DAYS).
    files_purged_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_recent"),
            models.Index(fields=["user", "status"], name="order_user_status"),
            models.Index(fields=["style", "status", "-completed_at"], name="order_style_done"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], condition=~models.Q(idempotency_key=""), name="order_idempotency"
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.style}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED)

    @property
    def processing_seconds(self) -> int | None:
        if self.completed_at is None:
            return None
        return max(0, round((self.completed_at - self.created_at).total_seconds()))


def order_file_path(instance: OrderFile, filename: str) -> str:
    """orders/<yyyy>/<random>/<role>_<order id>_<token>.<ext>: names nobody can guess."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    index = f"_{instance.position}" if instance.role == OrderFile.Role.CATALOG else ""
    return (
        f"orders/{timezone.now():%Y}/{secrets.token_hex(8)}/"
        f"{instance.role}_{instance.order_id}{index}_{secrets.token_urlsafe(12)}.{ext}"
    )


class OrderFile(models.Model):
    """An input photo or a result image of an order."""

    class Role(models.TextChoices):
        PERSON = "person", "Person photo"
        CLOTHING = "clothing", "Clothing photo"
        PRODUCT = "product", "Product photo"
        RESULT = "result", "Try-on result"
        CATALOG = "catalog", "Catalog image"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="files")
    role = models.CharField(max_length=10, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=order_file_path, max_length=255)
    name = models.CharField(max_length=100, blank=True, help_text="Catalog variant name, e.g. white_main.")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "position"]
        constraints = [models.UniqueConstraint(fields=["order", "role", "position"], name="order_file_slot")]

    def __str__(self) -> str:
        return f"{self.role} {self.position} of order {self.order_id}"
