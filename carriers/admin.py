"""The dispatcher's planning screens: carriers and their services, the quote tool, plans,
capacity, the unplanned queue and the override of a plan."""

from __future__ import annotations

import json
from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from rest_framework.exceptions import ValidationError

from accounts.models import PlanningPolicy, Shipper
from carriers import documents, selectors
from carriers.models import (
    CapacityLoad,
    Carrier,
    Plan,
    PlanningFailure,
    RateCard,
    Service,
    ServiceArea,
    UnplannedOrder,
)
from carriers.selection import select
from carriers.services import orders_plan, plan_override
from config.api.errors import WaybillError, flatten_errors
from config.times import DELIVERY, admin_time, carrier_zone, order_zone
from orders.api.serializers import order_spec_from
from orders.models import PLANNABLE, Order, OrderStatus
from orders.services import order_draft
from orders.templatetags.admin_times import in_zone


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    fields = ("code", "name", "active", "transit_days", "cutoff_time", "daily_capacity_orders")
    show_change_link = True


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "active", "time_zone", "on_time_rate_30d", "contact_email")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ServiceInline]

    def changelist_view(self, request, extra_context=None):
        self._on_time = selectors.carrier_on_time_counts()
        return super().changelist_view(request, extra_context)

    @admin.display(description="On time, 30 days")
    def on_time_rate_30d(self, carrier: Carrier) -> str:
        on_time, measured = getattr(self, "_on_time", {}).get(str(carrier.id), (0, 0))
        if not measured:
            return "no deliveries yet"
        return f"{on_time / measured:.0%} of {measured}"


class ServiceAreaInline(admin.TabularInline):
    model = ServiceArea
    extra = 0
    fields = (
        "kind",
        "country_code",
        "postcode_from",
        "postcode_to",
        "postcode_prefixes",
        "depot_latitude",
        "depot_longitude",
        "radius_km",
    )


class RateCardInline(admin.StackedInline):
    model = RateCard
    extra = 0
    fieldsets = (
        (None, {"fields": (("valid_from", "valid_to", "currency"),)}),
        (
            "Prices",
            {
                "fields": (
                    "weight_breaks",
                    ("per_kg", "per_collo", "volumetric_kg_per_m3"),
                    "distance_bands",
                    "tag_surcharges",
                    ("minimum_charge", "fuel_surcharge_pct"),
                )
            },
        ),
    )


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "carrier",
        "code",
        "active",
        "transit_days",
        "cutoff_time",
        "handled_tags",
        "daily_capacity_orders",
        "daily_capacity_kg",
    )
    list_filter = ("carrier", "active", "transit_days")
    search_fields = ("name", "code", "carrier__name")
    list_select_related = ("carrier",)
    inlines = [ServiceAreaInline, RateCardInline]
    fieldsets = (
        (None, {"fields": ("carrier", ("code", "name"), "active")}),
        (
            "Time",
            {
                "fields": (
                    ("transit_days", "cutoff_time"),
                    "operating_days",
                    ("pickup_window_start", "pickup_window_end"),
                    ("delivery_window_start", "delivery_window_end"),
                )
            },
        ),
        (
            "Limits",
            {
                "fields": (
                    "handled_tags",
                    "max_collo_weight_kg",
                    ("max_collo_length_cm", "max_collo_width_cm", "max_collo_height_cm"),
                    ("max_total_weight_kg", "max_total_volume_m3", "max_collis"),
                    ("daily_capacity_orders", "daily_capacity_kg"),
                )
            },
        ),
    )

    def get_urls(self):
        quote = self.admin_site.admin_view(self.quote_view)
        return [path("quote/", quote, name="carriers_service_quote"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "quote_url": reverse("admin:carriers_service_quote"),
        }
        return super().changelist_view(request, extra_context)

    def quote_view(self, request):
        """Paste an order as the API takes it; see every option and every rejection."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = QuoteForm(request.POST or None)
        context = {**self.admin_site.each_context(request), "title": "Quote an order", "form": form}
        if request.method == "POST" and form.is_valid():
            try:
                spec = order_spec_from(form.cleaned_data["order"])
                order, collis = order_draft(
                    shipper=form.cleaned_data["shipper"], live_mode=False, spec=spec
                )
                selection = select(
                    selectors.shipment_of(order, collis),
                    selectors.catalogue_load(),
                    policy=form.cleaned_data["policy"],
                    now=form.cleaned_data.get("at") or timezone.now(),
                )
                context["selection"] = selection
                context["options"] = [o.document() for o in selection.options]
                context["rejections"] = [r.document() for r in selection.rejections]
            except ValidationError as exc:
                context["errors"] = flatten_errors(exc.detail)
            except WaybillError as exc:
                context["errors"] = exc.as_body().get("errors") or [{"message": exc.detail}]
        return TemplateResponse(request, "admin/carriers/quote.html", context)


class QuoteForm(forms.Form):
    shipper = forms.ModelChoiceField(queryset=Shipper.objects.all())
    policy = forms.ChoiceField(choices=PlanningPolicy.choices)
    at = forms.DateTimeField(
        required=False,
        help_text="Quote as if it were this moment (default: now); in UTC, the site's zone, "
        "unless it names an offset (2026-12-02T08:00+01:00).",
    )
    order = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "cols": 100, "style": "font-family: monospace"}),
        help_text="The order as POST /api/v1/orders takes it (JSON).",
    )

    def clean_order(self):
        try:
            data = json.loads(self.cleaned_data["order"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise forms.ValidationError("A JSON object, please.")
        data.setdefault("creatorOrderId", "QUOTE")
        return data


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "order",
        "status",
        "carrier",
        "service",
        "price",
        "currency",
        "pickup_day",
        "is_current",
        "overridden",
        "decided_by",
        "decided_at_local",
    )
    list_filter = ("status", "is_current", "overridden", "policy", "carrier", "pickup_day")
    search_fields = ("order__creator_order_id", "=order__id")
    list_select_related = ("order", "carrier", "service__carrier")
    date_hierarchy = "decided_at"
    # The decision in the order's zone, the carrier's promise in the carrier's (config.times).
    readonly_fields = [
        f"{f.name}_local" if isinstance(f, models.DateTimeField) else f.name
        for f in Plan._meta.fields
    ]
    decided_at_local = admin_time("decided_at", lambda plan: order_zone(plan.order), "Decided at")
    promised_pickup_from_local = admin_time(
        "promised_pickup_from", lambda plan: carrier_zone(plan.carrier)
    )
    promised_pickup_to_local = admin_time(
        "promised_pickup_to", lambda plan: carrier_zone(plan.carrier)
    )
    promised_delivery_from_local = admin_time(
        "promised_delivery_from", lambda plan: carrier_zone(plan.carrier)
    )
    promised_delivery_to_local = admin_time(
        "promised_delivery_to", lambda plan: carrier_zone(plan.carrier)
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        override = self.admin_site.admin_view(self.override_view)
        return [
            path("override/<uuid:order_id>/", override, name="carriers_plan_override"),
            *super().get_urls(),
        ]

    def override_view(self, request, order_id):
        """Put an order on a service of the dispatcher's choosing; the reason is required."""
        if not request.user.has_perm("carriers.override_plan"):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("shipper"), id=order_id)
        form = OverrideForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                plan = plan_override(
                    order=order,
                    service=form.cleaned_data["service"],
                    reason=form.cleaned_data["reason"],
                    actor=f"user:{request.user}",
                )
            except WaybillError as exc:
                messages.error(request, exc.detail)
            else:
                messages.success(request, f"{order} now goes with {plan.service}.")
                return redirect("admin:orders_order_change", order.id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Override the carrier of {order}",
            "order": order,
            "form": form,
            "explanation": plan_explanation(order),  # this page is the override already
        }
        return TemplateResponse(request, "admin/carriers/override.html", context)


class OverrideForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=Service.objects.filter(active=True, carrier__active=True).select_related("carrier")
    )
    reason = forms.CharField(
        max_length=400, widget=forms.Textarea(attrs={"rows": 3}), help_text="Kept in the history."
    )


def plan_explanation(order: Order, *, may_override: bool = False) -> str:
    """The order's current plan as HTML: the decision, every option and every rejection, and
    the way to override it for a user who may."""
    document = documents.plan_document(order)
    # A service is an option or ruled out, never both: plans overridden before that was so
    # kept the chosen service among the ruled out too.
    chosen = {o["service"]["id"] for o in document["options"]}
    document["rejections"] = [r for r in document["rejections"] if r["service"]["id"] not in chosen]
    # Each time on its place's clock, named: promises are the carrier's, the rest the order's.
    carrier_zones = dict(
        Carrier.objects.filter(
            id__in={o["carrier"]["id"] for o in document["options"]}
        ).values_list("id", "time_zone")
    )
    for option in document["options"]:
        zone = carrier_zones.get(UUID(option["carrier"]["id"]), "UTC")
        option["deliveryByShown"] = in_zone(option["promisedDelivery"]["to"], zone)
    plan = order.plans.filter(is_current=True).select_related("carrier").first()
    zones = {
        "order": order_zone(order),
        "delivery": order_zone(order, DELIVERY),
        "carrier": carrier_zone(plan.carrier if plan else None),
    }
    may_override = may_override and order.status in PLANNABLE
    override_url = reverse("admin:carriers_plan_override", args=[order.id])
    return render_to_string(
        "admin/carriers/plan_explanation.html",
        {
            "doc": document,
            "zones": zones,
            "override_url": override_url if may_override else "",
            "failure": PlanningFailure.objects.filter(order=order).first(),
        },
    )


@admin.register(CapacityLoad)
class CapacityLoadAdmin(admin.ModelAdmin):
    list_display = ("service", "day", "orders", "capacity_orders", "weight_kg", "capacity_kg")
    list_filter = ("day", "service__carrier")
    list_select_related = ("service__carrier",)
    date_hierarchy = "day"
    readonly_fields = ("service", "day", "orders", "weight_kg")

    def has_add_permission(self, request):
        return False

    @admin.display(description="of orders")
    def capacity_orders(self, load):
        return load.service.daily_capacity_orders or "∞"

    @admin.display(description="of kg")
    def capacity_kg(self, load):
        return load.service.daily_capacity_kg or "∞"


@admin.register(UnplannedOrder)
class UnplannedOrderAdmin(admin.ModelAdmin):
    """The dispatcher's queue: orders no service can take, with the reasons."""

    list_display = ("creator_order_id", "shipper", "live_mode", "reasons", "tags", "override")
    list_filter = ("shipper", "live_mode")
    search_fields = ("creator_order_id", "relational_id")
    list_select_related = ("shipper",)
    actions = ["plan_again"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            # Orders whose planning raised wait here too, with the error, for a dispatcher.
            .filter(
                Q(status=OrderStatus.UNPLANNED)
                | Q(planning_failure__isnull=False, status__in=PLANNABLE)
            )
            .select_related("planning_failure")
            .prefetch_related("plans")
            .order_by("created_at")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_display(self, request):
        # The override page refuses users without the permission; do not offer it to them.
        if request.user.has_perm("carriers.override_plan"):
            return self.list_display
        return tuple(name for name in self.list_display if name != "override")

    @admin.display(description="Why")
    def reasons(self, order):
        failure = getattr(order, "planning_failure", None)
        if failure is not None:
            return f"planning failed: {failure.error[:300]}"
        current = next((p for p in order.plans.all() if p.is_current), None)
        return ", ".join(current.unplanned_reasons) if current else "—"

    @admin.display(description="")
    def override(self, order):
        url = reverse("admin:carriers_plan_override", args=[order.id])
        return format_html('<a class="button" href="{}">Choose a carrier…</a>', url)

    @admin.action(description="Plan the selected orders again now", permissions=["change"])
    def plan_again(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        Order.objects.filter(id__in=ids).update(needs_planning=True)
        planned = orders_plan(order_ids=ids, actor=f"user:{request.user}")
        messages.success(request, f"Planned again: {planned} of {len(ids)} changed.")
