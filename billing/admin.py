from django.contrib import admin

from .models import CreditBalance, CreditEntry


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger changes only through billing.services."""

    list_display = ["created_at", "user", "kind", "amount", "balance_after", "order", "reason"]
    list_filter = ["kind"]
    search_fields = ["user__email", "reason", "reference"]
    raw_id_fields = ["user", "order"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditBalance)
class CreditBalanceAdmin(admin.ModelAdmin):
    list_display = ["user", "balance", "updated_at"]
    search_fields = ["user__email"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
