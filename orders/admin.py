from django.contrib import admin, messages
from django.db import models
from django.utils.safestring import mark_safe

from config.api.errors import WaybillError
from orders import pos
from orders.models import Collo, Order, OrderHistory, OrderLine, PosFetch, PosIntegration
from orders.services import order_cancel


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("position", "reference", "description", "quantity", "price", "tax_rate")


class ColloInline(ReadOnlyInline):
    model = Collo
    fields = (
        "position",
        "barcode",
        "description",
        "weight",
        "volume",
        "length",
        "width",
        "height",
        "tags",
    )


class OrderHistoryInline(ReadOnlyInline):
    model = OrderHistory
    fields = ("at", "actor", "action", "note", "changes")
    readonly_fields = fields


class TagFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        tags: set[str] = set()
        for row in Order.objects.values_list("tags", flat=True).distinct()[:500]:
            tags.update(row or [])
        return [(t, t) for t in sorted(tags)[:50]]

    def queryset(self, request, queryset):
        from orders.selectors import tag_filter

        return queryset.filter(tag_filter(self.value())) if self.value() else queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "creator_order_id",
        "shipper",
        "status",
        "live_mode",
        "relational_id",
        "delivery_address_primary",
        "delivery_from",
        "created_at",
    )
    list_filter = ("status", "shipper", "live_mode", TagFilter, "created_at", "updated_at")
    search_fields = (
        "creator_order_id",
        "relational_id",
        "=collis__barcode",
        "delivery_address_primary",
    )
    date_hierarchy = "created_at"
    list_select_related = ("shipper",)
    inlines = [OrderLineInline, ColloInline, OrderHistoryInline]
    actions = ["cancel_orders"]
    # Orders change through the API and the actions here, so every change leaves its event.
    readonly_fields = ["plan", *(f.name for f in Order._meta.fields)]
    fieldsets = (
        ("Plan", {"fields": ("plan",)}),
        (None, {"fields": [f.name for f in Order._meta.fields if f.name != "id"]}),
    )

    @admin.display(description="How it was planned")
    def plan(self, order):
        from carriers.admin import plan_explanation

        return mark_safe(plan_explanation(order))  # noqa: S308  rendered by our template

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel the selected orders", permissions=["change"])
    def cancel_orders(self, request, queryset):
        done = 0
        for order in queryset:
            try:
                order_cancel(
                    order=order,
                    reason=f"Cancelled by dispatcher {request.user}",
                    actor=f"user:{request.user}",
                )
                done += 1
            except WaybillError as exc:
                messages.error(request, f"{order}: {exc.detail}")
        messages.success(request, f"Cancelled {done} order(s).")


# A URL typed without a scheme is read as https.
URL_FORM_FIELD = {models.URLField: {"assume_scheme": "https"}}


@admin.register(PosIntegration)
class PosIntegrationAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FORM_FIELD
    list_display = ("shipper", "live_mode", "base_url", "auth_header_name", "active")
    list_filter = ("live_mode", "active")


@admin.register(PosFetch)
class PosFetchAdmin(admin.ModelAdmin):
    list_display = (
        "entity_id",
        "event_type",
        "shipper",
        "live_mode",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "outcome",
        "created_at",
    )
    list_filter = ("status", "event_type", "shipper", "live_mode")
    search_fields = ("entity_id",)
    readonly_fields = [f.name for f in PosFetch._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Retry the selected fetches now")
    def retry_now(self, request, queryset):
        for fetch in queryset:
            pos.pos_fetch_retry_now(fetch=fetch)
        messages.success(request, f"Queued {queryset.count()} fetch(es).")
