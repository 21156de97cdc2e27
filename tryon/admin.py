from django.contrib import admin

from .models import Order, OrderFile


class OrderFileInline(admin.TabularInline):
    model = OrderFile
    extra = 0
    fields = ["role", "position", "name", "file", "width", "height"]
    readonly_fields = fields
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "style", "status", "progress", "credits_used", "created_at", "completed_at"]
    list_filter = ["style", "status"]
    search_fields = ["id", "user__email", "error_code"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "started_at", "completed_at", "timings", "request_hash", "attempts"]
    inlines = [OrderFileInline]
