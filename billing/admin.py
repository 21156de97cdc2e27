from django.contrib import admin

from .models import CreditBalance, CreditEntry, Purchase, StripeEvent


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows that only the service layer writes: staff may look, not add or edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(ViewOnlyAdmin):
    """Append-only records (ledger, payments, Stripe events): not deletable either."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the ledger changes only through billing.services."""

    list_display = ["created_at", "user", "kind", "amount", "balance_after", "order", "reason"]
    list_filter = ["kind"]
    search_fields = ["user__email", "reason", "reference"]
    raw_id_fields = ["user", "order"]


@admin.register(CreditBalance)
class CreditBalanceAdmin(ViewOnlyAdmin):
    list_display = ["user", "balance", "updated_at"]
    search_fields = ["user__email"]


# --- Stripe Checkout ------------------------------------------------------------------------------


class OwnerBalanceFilter(admin.SimpleListFilter):
    """Refunds of already-spent credits leave a negative balance: this finds who owes credits."""

    title = "owner's balance"
    parameter_name = "owner_balance"

    def lookups(self, request, model_admin):
        return [("negative", "Negative")]

    def queryset(self, request, queryset):
        if self.value() == "negative":
            owing = CreditBalance.objects.filter(balance__lt=0).values("user_id")
            return queryset.filter(user_id__in=owing)
        return queryset


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    """Read-only: purchases change only through Stripe's webhook (refunds are made in Stripe's dashboard)."""

    list_display = [
        "created_at",
        "user",
        "pack_code",
        "credits",
        "price",
        "status",
        "credits_reversed",
        "owner_balance",
        "stripe_session_id",
    ]
    list_filter = ["status", "pack_code", OwnerBalanceFilter]
    search_fields = ["user__email", "=public_id", "stripe_session_id", "stripe_payment_intent_id"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    @admin.display(description="owner's balance")
    def owner_balance(self, obj: Purchase) -> int:
        return CreditBalance.objects.filter(user_id=obj.user_id).values_list("balance", flat=True).first() or 0


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "event_id", "type", "outcome", "purchase", "livemode"]
    list_filter = ["type", "livemode"]
    search_fields = ["=event_id", "type", "outcome", "purchase__stripe_session_id", "purchase__user__email"]
    raw_id_fields = ["purchase"]
    date_hierarchy = "received_at"
