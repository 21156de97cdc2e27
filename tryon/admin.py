from datetime import timedelta

from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db.models import DurationField, ExpressionWrapper, F
from django.utils.html import format_html

from .errors import ApiError
from .models import Order, OrderFile
from .services import order_cancel, order_retry
from .thumbnails import order_thumbnail


class OrderFileInline(admin.TabularInline):
    model = OrderFile
    extra = 0
    fields = readonly_fields = ("role", "position", "name", "file", "width", "height")
    can_delete = False


class ProcessingTimeFilter(admin.SimpleListFilter):
    """Finished orders by how long they took from acceptance to completion or failure."""

    title = "processing time"
    parameter_name = "took"
    BUCKETS = {
        "lt30": ("under 30 s", None, 30),
        "30to120": ("30 s to 2 min", 30, 120),
        "gt120": ("over 2 min", 120, None),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _, _) in self.BUCKETS.items()]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None or value not in self.BUCKETS:
            return queryset
        _, low, high = self.BUCKETS[value]
        took = ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField())
        queryset = queryset.filter(completed_at__isnull=False).annotate(took=took)
        if low is not None:
            queryset = queryset.filter(took__gte=timedelta(seconds=low))
        if high is not None:
            queryset = queryset.filter(took__lt=timedelta(seconds=high))
        return queryset


class ErrorFilter(admin.SimpleListFilter):
    title = "error"
    parameter_name = "error"

    def lookups(self, request, model_admin):
        codes = Order.objects.exclude(error_code="").order_by("error_code").values_list("error_code", flat=True)
        return [(code, code) for code in codes.distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(error_code=self.value()) if self.value() else queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "thumbnail",
        "id",
        "user",
        "style",
        "status",
        "progress",
        "credits_used",
        "took",
        "error_code",
        "source",
        "created_at",
    ]
    list_display_links = ["thumbnail", "id"]
    list_filter = ["status", "style", "source", ErrorFilter, ProcessingTimeFilter, "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["=id", "user__email", "error_code"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    inlines = [OrderFileInline]
    actions = ["cancel_and_refund", "retry"]

    # Orders are read-only here: an order's status and credits move only with the ledger (charge, refund),
    # so staff change them through the actions below, which go through the order services. No adding (an
    # order without its charge) and no deleting (its ledger entries point at it).
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        # Django shows actions to users who may change; these are allowed to staff who may view orders.
        actions = super().get_actions(request)
        if not self.has_view_permission(request):
            return {}
        return actions

    @admin.action(description="Cancel and refund the selected unfinished orders")
    def cancel_and_refund(self, request, queryset):
        done = [pk for pk in queryset.values_list("pk", flat=True) if order_cancel(pk, by=request.user.email)]
        skipped = queryset.count() - len(done)
        if done:
            self.message_user(request, f"Cancelled and refunded: {', '.join(map(str, done))}.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} order(s) had finished already: left as they are.", messages.WARNING)

    @admin.action(description="Retry the selected failed orders (a new order each, charged)")
    def retry(self, request, queryset):
        for order in queryset.select_related("user"):
            try:
                new = order_retry(order, by=request.user.email)
            except ApiError as exc:
                self.message_user(request, f"Order {order.pk}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"Order {order.pk} retried as order {new.pk}.", messages.SUCCESS)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("files")

    def _thumb(self, obj: Order, size: int):
        name = order_thumbnail(obj)  # made once and stored; later views only read it
        if name is None:
            return "—"
        return format_html(
            '<img src="{}" alt="Order {}" style="max-width:{}px;max-height:{}px;border-radius:4px">',
            default_storage.url(name),
            obj.pk,
            size,
            size,
        )

    @admin.display(description="image")
    def thumbnail(self, obj: Order):
        return self._thumb(obj, 64)

    @admin.display(description="preview")
    def preview(self, obj: Order):
        return self._thumb(obj, 320)

    @admin.display(description="took", ordering="completed_at")
    def took(self, obj: Order) -> str:
        seconds = obj.processing_seconds
        return "—" if seconds is None else f"{seconds} s"
