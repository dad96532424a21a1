from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.safestring import mark_safe

from config.errors import InvalidInput, WaybillError
from config.times import DELIVERY, PICKUP, admin_time, order_zone
from orders import pos
from orders.models import Collo, Order, OrderHistory, OrderLine, PosFetch, PosIntegration
from orders.services import order_cancel

# An order's times are shown in the zone of their place, named (config.times).
ORDER_TIMES = [f.name for f in Order._meta.fields if isinstance(f, models.DateTimeField)]


def _order_time_zone(field: str):
    if field.startswith("pickup_"):
        return lambda order: order_zone(order, PICKUP)
    if field.startswith("delivery_") or field == "delivered_at":
        return lambda order: order_zone(order, DELIVERY)
    return order_zone


def _shown(field: str) -> str:
    return f"{field}_local" if field in ORDER_TIMES else field


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
    fields = ("at_local", "actor", "action", "note", "changes")
    readonly_fields = fields
    at_local = admin_time("at", lambda history: order_zone(history.order), "At")


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


class GeocodingFilter(admin.SimpleListFilter):
    """Orders geocoding found no position for: a dispatcher sets it, or asks the shipper."""

    title = "geocoding"
    parameter_name = "geocoding"

    def lookups(self, request, model_admin):
        return [("failed", "Geocoding failed")]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(geo_location_failed_at__isnull=False)
        return queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "creator_order_id",
        "shipper",
        "status",
        "live_mode",
        "relational_id",
        "delivery_address_primary",
        "delivery_from_local",
        "created_at_local",
    )
    list_filter = (
        "status",
        "shipper",
        "live_mode",
        TagFilter,
        GeocodingFilter,
        "created_at",
        "updated_at",
    )
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
    readonly_fields = ["plan", *(_shown(f.name) for f in Order._meta.fields)]
    fieldsets = (
        ("Plan", {"fields": ("plan",)}),
        (None, {"fields": [_shown(f.name) for f in Order._meta.fields if f.name != "id"]}),
    )

    def get_object(self, request, object_id, from_field=None):
        order = super().get_object(request, object_id, from_field)
        if order is not None:
            # The plan display has no request; it offers the override only to who may use it.
            order.may_override_plan = request.user.has_perm("carriers.override_plan")
        return order

    @admin.display(description="How it was planned")
    def plan(self, order):
        from carriers.admin import plan_explanation

        may_override = getattr(order, "may_override_plan", False)
        html = plan_explanation(order, may_override=may_override)
        return mark_safe(html)  # noqa: S308  rendered by our template

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel the selected orders", permissions=["cancel"])
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

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("orders.cancel_order")


for _field in ORDER_TIMES:
    setattr(OrderAdmin, f"{_field}_local", admin_time(_field, _order_time_zone(_field)))


# A URL typed without a scheme is read as https.
URL_FORM_FIELD = {models.URLField: {"assume_scheme": "https"}}


def https_by_default(db_field: models.Field, **kwargs) -> forms.Field | None:
    """The form field of a model field, a URL typed without a scheme read as https."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


# Where the service's error fields (the API's names) show on the integration form.
POS_FORM_FIELDS = {
    "baseUrl": "base_url",
    "authHeaderName": "auth_header_name",
    "authHeaderValue": "new_auth_header_value",
}


class PosIntegrationForm(forms.ModelForm):
    """The auth value is write-only: the form never carries the stored one back to the page."""

    new_auth_header_value = forms.CharField(
        label="Auth header value",
        required=False,
        max_length=PosIntegration._meta.get_field("auth_header_value").max_length,
        # new-password keeps the browser from filling in the admin's own login.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: never shown again. Leave blank to keep the current value.",
    )
    remove_auth_header_value = forms.BooleanField(
        label="Remove the auth header value", required=False
    )

    class Meta:
        model = PosIntegration
        fields = ["shipper", "live_mode", "base_url", "auth_header_name", "active"]
        formfield_callback = https_by_default

    def auth_header_value(self) -> str | None:
        """The value to store: None keeps the current one."""
        if self.cleaned_data.get("remove_auth_header_value"):
            return ""
        return self.cleaned_data.get("new_auth_header_value") or None

    def clean(self):
        cleaned = super().clean()
        base_url = cleaned.get("base_url")
        if base_url is None:
            return cleaned  # the field's own error is already shown
        stored = self.instance.auth_header_value if self.instance.pk else ""
        new_value = self.auth_header_value()
        url_is_new = self.instance.pk is None or "base_url" in self.changed_data
        try:
            pos.pos_integration_check(
                base_url=base_url if url_is_new else None,
                auth_header_name=cleaned.get("auth_header_name") or "",
                auth_header_value=stored if new_value is None else new_value,
            )
        except InvalidInput as exc:
            for error in exc.errors:
                self.add_error(POS_FORM_FIELDS.get(error["field"]), error["message"])
        return cleaned


@admin.register(PosIntegration)
class PosIntegrationAdmin(admin.ModelAdmin):
    form = PosIntegrationForm
    formfield_overrides = URL_FORM_FIELD
    list_display = ("shipper", "live_mode", "base_url", "auth_header_name", "active")
    list_filter = ("live_mode", "active")
    fields = (
        "shipper",
        "live_mode",
        "base_url",
        "auth_header_name",
        "auth_header_value_set",
        "new_auth_header_value",
        "remove_auth_header_value",
        "active",
    )
    readonly_fields = ("auth_header_value_set",)

    @admin.display(description="Current auth header value")
    def auth_header_value_set(self, integration: PosIntegration) -> str:
        return "set (hidden)" if integration.auth_header_value else "none"

    def save_model(self, request, obj, form, change):
        # Saved by the service that checks the URL, as a fetch does, and keeps the value.
        data = form.cleaned_data
        saved = pos.pos_integration_save(
            integration=obj if change else None,
            shipper=data["shipper"],
            live_mode=data["live_mode"],
            base_url=data["base_url"],
            auth_header_name=data["auth_header_name"],
            auth_header_value=form.auth_header_value(),
            active=data["active"],
        )
        obj.pk = saved.pk
        obj._state.adding = False


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

    @admin.action(description="Retry the selected fetches now", permissions=["change"])
    def retry_now(self, request, queryset):
        for fetch in queryset:
            pos.pos_fetch_retry_now(fetch=fetch)
        messages.success(request, f"Queued {queryset.count()} fetch(es).")
