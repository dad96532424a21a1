"""The dispatcher's routing screens: depots, vehicle groups, gates, and jobs with their
figures, map, timeline and left-out orders, approved or cancelled from here."""

from __future__ import annotations

import math

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from carriers.models import Plan, PlanStatus
from config.errors import WaybillError
from config.times import admin_time, order_zone, route_zone
from orders.models import ROUTABLE, Order
from routing import documents, services
from routing.drawing import route_map_svg, timeline_svg
from routing.models import Depot, Gate, JobStatus, OptimizationJob, Route, Stop, VehicleGroup


@admin.register(Depot)
class DepotAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "latitude", "longitude", "time_zone")


@admin.register(VehicleGroup)
class VehicleGroupAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "depot",
        "vehicle_type",
        "vehicles",
        "max_weight_kg",
        "max_volume_m3",
        "max_stops",
        "shift_start",
        "shift_end",
        "handled_tags",
    )
    list_filter = ("depot", "vehicle_type")


@admin.register(Gate)
class GateAdmin(admin.ModelAdmin):
    list_display = ("name", "depot", "slots")
    list_filter = ("depot",)


def _document(job: OptimizationJob) -> dict:
    # The change page shows five views of one document; build it once per request.
    if not hasattr(job, "_document"):
        job._document = documents.job_document(job)
    return job._document


def _progress(job: OptimizationJob) -> str:
    return format_html(
        '<progress value="{}" max="1" title="{}%"></progress>',
        round(job.progress, 3),
        round(job.progress * 100),
    )


class OrderChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, order):
        # The dispatcher sees which orders hold a carrier booking that approving releases.
        return f"{order.creator_order_id} ({order.get_status_display().lower()})"


class JobForm(forms.ModelForm):
    orders = OrderChoiceField(
        queryset=Order.objects.none(),
        required=False,
        help_text="Leave empty for every routable order delivered on the date. Unplanned and "
        "carrier-planned orders both qualify; approving releases the carrier booking of each "
        "order it routes.",
    )

    class Meta:
        model = OptimizationJob
        fields = [
            "name",
            "date",
            "owner",
            "live_mode",
            "vehicle_groups",
            "gates",
            "time_budget_s",
            "seed",
            "settings",
        ]


@admin.register(OptimizationJob)
class OptimizationJobAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "name",
        "date",
        "status",
        "progress_bar",
        "routes_count",
        "left_out",
        "created_by",
        "created_at_local",
    )
    list_filter = ("status", "date", "live_mode")
    search_fields = ("name", "=number")
    actions = ["approve", "cancel", "run_again"]
    form = JobForm
    created_at_local = admin_time("created_at", documents.job_zone, "Created at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*JobForm.Meta.fields, "orders"]
        return ["overview", "figures", "map", "timeline", "unscheduled", "carrier_bookings"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["overview", "figures", "map", "timeline", "unscheduled", "carrier_bookings"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None and "orders" in form.base_fields:
            form.base_fields["orders"].queryset = Order.objects.filter(
                status__in=ROUTABLE, delivery_latitude__isnull=False
            )
        return form

    def save_model(self, request, obj, form, change):
        if change:
            return
        # A job is created, scoped and queued by the service, like the API does it.
        data = form.cleaned_data
        job = services.job_create(
            name=data["name"],
            day=data["date"],
            live_mode=data["live_mode"],
            vehicle_groups=list(data["vehicle_groups"].select_related("depot")),
            gates=list(data["gates"]),
            owner=data["owner"],
            orders=list(data["orders"]) or None,
            time_budget_s=data["time_budget_s"],
            seed=data["seed"],
            job_settings=data["settings"] or {},
            actor=f"user:{request.user}",
        )
        obj.pk = obj.id = job.id
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def has_change_permission(self, request, obj=None):
        # Read-only once created; it changes through the actions.
        return obj is None and super().has_change_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        extra = {**(extra_context or {}), "refresh": job and job.status in services.ACTIVE}
        return super().change_view(request, object_id, form_url, extra)

    @admin.display(description="Progress")
    def progress_bar(self, job):
        return _progress(job)

    @admin.display(description="Routes")
    def routes_count(self, job):
        return len((job.solution or {}).get("routes", []))

    @admin.display(description="Left out")
    def left_out(self, job):
        return len((job.solution or {}).get("unscheduled", {}))

    @admin.display(description="Job")
    def overview(self, job):
        document = _document(job)
        solver = document["solver"]
        return format_html(
            "<p><strong>{}</strong> · {} · {} orders · budget {} s · seed {}</p>{}"
            "<p>{}</p><p>Solver: {} iterations in {} s, stopped by {}.</p>",
            job.get_status_display(),
            job.date,
            document["ordersInScope"],
            job.time_budget_s,
            job.seed,
            _progress(job),
            job.error,
            solver["iterations"] or "–",
            solver["runtimeS"] or "–",
            solver["stoppedBy"] or "–",
        )

    @admin.display(description="Figures")
    def figures(self, job):
        document = _document(job)
        rows = "".join(
            format_html(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td><td>{}</td>"
                "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                index,
                r["vehicleGroup"]["name"],
                r["gate"]["name"],
                r["startTime"][11:16],
                r["endTime"][11:16],
                len(r["stops"]),
                r["distanceKm"],
                r["drivingDuration"] // 60,
                r["waitingTime"] // 60,
                r["taskTime"] // 60,
                r["breakTime"] // 60,
                r["weightKg"],
            )
            for index, r in enumerate(document["routes"], start=1)
        )
        meta = job.meta or {}
        total = format_html(
            "<tr><th colspan=5>Total</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th><th>{}</th><th>{}</th></tr>",
            meta.get("shipmentsCount", 0),
            round(meta.get("distance", 0), 3),
            meta.get("drivingDuration", 0) // 60,
            meta.get("waitingTime", 0) // 60,
            meta.get("taskTime", 0) // 60,
            meta.get("breakTime", 0) // 60,
            meta.get("weight", 0),
        )
        head = (
            f"<tr><th>#</th><th>Vehicle group</th><th>Gate</th>"
            f"<th>Time ({escape(documents.job_zone(job))})</th><th>Stops</th>"
            "<th>km</th><th>Driving min</th><th>Waiting min</th><th>Task min</th>"
            "<th>Break min</th><th>kg</th></tr>"
        )
        return mark_safe(f"<table>{head}{rows}{total}</table>")  # noqa: S308  escaped above

    def _drawing_data(self, job):
        document = _document(job)
        positions = {
            str(o.id): (o.delivery_latitude, o.delivery_longitude, o.creator_order_id)
            for o in job.orders.all()
        }
        groups = list(job.vehicle_groups.select_related("depot"))
        depots = list({(g.depot.latitude, g.depot.longitude) for g in groups})
        return document, positions, depots

    @admin.display(description="Map")
    def map(self, job):
        document, positions, depots = self._drawing_data(job)
        routes = [
            {
                "label": f"Route {i}",
                "stops": [positions[s["orderId"]] for s in r["stops"]],
            }
            for i, r in enumerate(document["routes"], start=1)
        ]
        # An order left out for its data may have no position to draw.
        left_out = [
            positions[u["orderId"]][:2]
            for u in document["unscheduled"]
            if all(
                isinstance(v, float | int) and math.isfinite(v) for v in positions[u["orderId"]][:2]
            )
        ]
        return mark_safe(route_map_svg(depots, routes, left_out))  # noqa: S308  escaped inside

    @admin.display(description="Timeline")
    def timeline(self, job):
        routes = [
            {
                "label": f"Route {i} · {len(r['stops'])} stops",
                "start_s": r["startS"],
                "end_s": r["endS"],
                "stops": [(s["startS"], s["visit"][:8]) for s in r["stops"]],
            }
            for i, r in enumerate((job.solution or {}).get("routes", []), start=1)
        ]
        return mark_safe(timeline_svg(routes))  # noqa: S308  escaped inside

    @admin.display(description="Left out")
    def unscheduled(self, job):
        document = _document(job)
        rows = "".join(
            format_html("<li>{}: {}</li>", u["creatorOrderId"], ", ".join(u["reasons"]))
            for u in document["unscheduled"]
        )
        return mark_safe(f"<ul>{rows}</ul>" if rows else "None.")  # noqa: S308

    @admin.display(description="Carrier bookings")
    def carrier_bookings(self, job):
        """Which of the job's orders a carrier carries now: approving releases the booking
        of each one it routes (one allocation per order)."""
        if job.status == JobStatus.APPROVED:
            return "Released on approval for every routed order (see each order's plan)."
        plans = (
            Plan.objects.filter(order__in=job.orders.all(), is_current=True)
            .filter(status=PlanStatus.PLANNED)
            .select_related("order", "service__carrier")
            .order_by("order__creator_order_id")
        )
        rows = "".join(
            format_html("<li>{}: {}, {} {}</li>", p.order, p.service, p.price, p.currency)
            for p in plans
        )
        if not rows:
            return "None: no order of this job is booked with a carrier."
        note = "Approving releases the booking of each order the job routes:"
        return mark_safe(f"<p>{note}</p><ul>{rows}</ul>")  # noqa: S308  escaped above

    def _each(self, request, queryset, action, done: str):
        count = 0
        for job in queryset:
            try:
                action(job)
                count += 1
            except WaybillError as exc:
                messages.error(request, f"{job}: {exc.detail}")
        if count:
            messages.success(request, f"{done}: {count} job(s).")

    @admin.action(description="Approve the selected jobs", permissions=["approve"])
    def approve(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda job: services.job_approve(job=job, actor=f"user:{request.user}"),
            "Approved",
        )

    @admin.action(description="Cancel the selected jobs", permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, lambda job: services.job_cancel(job=job), "Cancelled")

    @admin.action(description="Run the selected jobs again", permissions=["change"])
    def run_again(self, request, queryset):
        self._each(request, queryset, lambda job: services.job_rerun(job=job), "Queued")

    def has_approve_permission(self, request):
        return request.user.has_perm("routing.approve_optimizationjob")


class StopInline(admin.TabularInline):
    model = Stop
    extra = 0
    can_delete = False
    fields = (
        "sequence",
        "order",
        "kind",
        "planned_arrival_local",
        "eta_local",
        "window_from_local",
        "window_to_local",
    )
    readonly_fields = fields
    # A stop's times are in the zone of the order's place it serves (config.times).
    planned_arrival_local = admin_time("planned_arrival", lambda s: order_zone(s.order, s.kind))
    eta_local = admin_time("eta", lambda s: order_zone(s.order, s.kind), "ETA")
    window_from_local = admin_time("window_from", lambda s: order_zone(s.order, s.kind))
    window_to_local = admin_time("window_to", lambda s: order_zone(s.order, s.kind))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = (
        "slug",
        "job",
        "vehicle_group",
        "gate",
        "start_time_local",
        "stops_count",
        "distance_km",
        "duration",
        "status",
    )
    list_filter = ("status", "vehicle_group", "gate")
    search_fields = ("slug", "reference")
    list_select_related = ("job", "vehicle_group__depot", "gate")
    # A route's times are in its depot's zone, named (config.times).
    readonly_fields = [
        f"{f.name}_local" if isinstance(f, models.DateTimeField) else f.name
        for f in Route._meta.fields
    ]
    inlines = [StopInline]
    start_time_local = admin_time("start_time", route_zone, "Start time")
    end_time_local = admin_time("end_time", route_zone, "End time")
    created_at_local = admin_time("created_at", route_zone, "Created at")
    actual_start_time_local = admin_time("actual_start_time", route_zone, "Actual start")
    actual_end_time_local = admin_time("actual_end_time", route_zone, "Actual end")
    actions = ["cancel_routes"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # A route carrying orders is cancelled (the action), never deleted: its orders would
        # be left "on route" on no route. Stops protect it in the database too.
        return False

    @admin.action(description="Cancel the selected routes", permissions=["cancel"])
    def cancel_routes(self, request, queryset):
        done = 0
        for route in queryset:
            try:
                services.route_cancel(
                    route=route,
                    reason=f"Cancelled by dispatcher {request.user}",
                    actor=f"user:{request.user}",
                )
                done += 1
            except WaybillError as exc:
                messages.error(request, f"{route}: {exc.detail}")
        if done:
            messages.success(request, f"Cancelled {done} route(s); their orders are planned again.")

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("routing.cancel_route")
