from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.template.response import TemplateResponse

from billing.models import CreditBalance, CreditEntry
from billing.services import credits_grant

from .models import ApiKey, User


class CreditEntryInline(admin.TabularInline):
    """The user's ledger, newest first; read-only (credits move only through billing.services)."""

    model = CreditEntry
    fk_name = "user"
    extra = 0
    fields = readonly_fields = ("created_at", "kind", "amount", "balance_after", "order", "reason", "reference")
    ordering = ["-created_at"]
    can_delete = False
    show_change_link = False
    max_num = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class GrantCreditsForm(forms.Form):
    amount = forms.IntegerField(min_value=1, max_value=100_000, label="Credits to grant to each selected user")
    reason = forms.CharField(max_length=200, initial="support", help_text="Recorded in the ledger.")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "plan", "credits", "is_staff", "is_active", "date_joined"]
    list_filter = ["plan", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "plan"]}),
        ("Personal info", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [CreditEntryInline]
    actions = ["grant_credits"]

    def get_queryset(self, request):
        balance = CreditBalance.objects.filter(user_id=OuterRef("pk")).values("balance")[:1]
        return super().get_queryset(request).annotate(credit_balance=Subquery(balance))

    @admin.display(description="credits", ordering="credit_balance")
    def credits(self, obj: User) -> int:
        return getattr(obj, "credit_balance", None) or 0  # annotated by get_queryset

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.action(description="Grant credits to the selected users")
    def grant_credits(self, request, queryset):
        form = GrantCreditsForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            with transaction.atomic():
                for user in queryset:
                    credits_grant(user, amount, reason=f"admin: {reason} (by {request.user.email})")
            self.message_user(request, f"Granted {amount} credits to {queryset.count()} user(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/accounts/grant_credits.html",
            {
                **self.admin_site.each_context(request),
                "title": "Grant credits",
                "form": form,
                "users": queryset,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__email", "name", "prefix"]
    # Keys are created with `createapikey` or on the settings page: the raw key is only shown there.
    # Not even the stored hash is shown here.
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False
