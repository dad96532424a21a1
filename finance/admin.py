"""Finance's screens: cost additions to approve or reject, invoices with the audit's findings
to approve (with adjustments) or dispute, the CSV export, and totals per carrier and month.

Every row arrives from a carrier and changes only through a decision, so nobody adds, edits
or deletes here; each decision asks for its own permission (``STAFF_GROUPS["finance"]``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from config.errors import WaybillError
from config.times import admin_time, carrier_zone
from finance import documents, selectors, services
from finance.models import (
    CLEAN_FINDINGS,
    CostAddition,
    CostAdditionEvidence,
    CostAdditionStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)


def _actor(request) -> str:
    return f"user:{request.user}"


class ReadOnly:
    """Rows arrive from carriers and change only through finance's decisions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EvidenceInline(ReadOnly, admin.TabularInline):
    model = CostAdditionEvidence
    extra = 0
    fields = ("content_type", "width", "height", "size", "created_at")
    readonly_fields = fields


@admin.register(CostAddition)
class CostAdditionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "reference",
        "carrier",
        "order",
        "route",
        "asked",
        "reason_code",
        "status",
        "approved",
        "requested_at_local",
        "decided_by",
        "decide_link",
    )
    list_filter = ("status", "reason_code", "carrier", "live_mode")
    search_fields = ("reference", "order__creator_order_id", "route__slug")
    list_select_related = ("carrier", "order", "route__vehicle_group__depot")
    inlines = [EvidenceInline]
    actions = ["approve_as_asked", "reject_with_reason"]
    requested_at_local = admin_time("requested_at", documents.cost_addition_zone, "Requested at")
    decided_at_local = admin_time("decided_at", documents.cost_addition_zone, "Decided at")
    exclude = ("fingerprint", "requested_at", "decided_at")

    def get_readonly_fields(self, request, obj=None):
        fields = [f.name for f in CostAddition._meta.fields if f.name not in self.exclude]
        return [*fields, "requested_at_local", "decided_at_local"]

    @admin.display(description="Asked")
    def asked(self, obj: CostAddition) -> str:
        return f"{obj.amount} {obj.currency}"

    @admin.display(description="Approved")
    def approved(self, obj: CostAddition) -> str:
        return f"{obj.approved_amount} {obj.currency}" if obj.approved_amount is not None else ""

    @admin.display(description="")
    def decide_link(self, obj: CostAddition) -> str:
        if obj.status != CostAdditionStatus.PENDING:
            return ""
        url = reverse("admin:finance_costaddition_decide", args=[obj.id])
        return format_html('<a href="{}">Decide…</a>', url)

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("finance.approve_costaddition")

    def has_reject_permission(self, request) -> bool:
        return request.user.has_perm("finance.reject_costaddition")

    @admin.action(description="Approve the selected, as asked", permissions=["approve"])
    def approve_as_asked(self, request, queryset):
        done = 0
        for addition in queryset.select_related("carrier", "order__shipper"):
            try:
                services.cost_addition_approve(cost_addition=addition, actor=_actor(request))
                done += 1
            except WaybillError as exc:
                messages.error(request, f"{addition}: {exc.detail}")
        if done:
            messages.success(request, f"Approved: {done} cost addition(s).")

    @admin.action(description="Reject the selected (asks for a reason)", permissions=["reject"])
    def reject_with_reason(self, request, queryset):
        reason = (request.POST.get("reason") or "").strip()
        if "apply" not in request.POST or not reason:
            if "apply" in request.POST:
                messages.error(request, "Say why: the carrier reads the reason.")
            context = {
                **self.admin_site.each_context(request),
                "title": "Reject cost additions",
                "additions": queryset,
                "action": "reject_with_reason",
            }
            return TemplateResponse(request, "admin/finance/reject.html", context)
        done = 0
        for addition in queryset:
            try:
                services.cost_addition_reject(
                    cost_addition=addition, actor=_actor(request), reason=reason
                )
                done += 1
            except WaybillError as exc:
                messages.error(request, f"{addition}: {exc.detail}")
        if done:
            messages.success(request, f"Rejected: {done} cost addition(s).")
        return None

    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        return [
            path("<uuid:cost_addition_id>/decide/", decide, name="finance_costaddition_decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request, cost_addition_id):
        """Approve (optionally less than asked) or reject (with a reason) one addition."""
        may_approve, may_reject = (
            self.has_approve_permission(request),
            self.has_reject_permission(request),
        )
        if not (may_approve or may_reject):
            raise PermissionDenied
        addition = selectors.cost_addition_for_staff(cost_addition_id)
        if request.method == "POST":
            decision = request.POST.get("decision")
            if (decision == "approve" and not may_approve) or (
                decision == "reject" and not may_reject
            ):
                raise PermissionDenied
            try:
                self._decide(request, addition, decision)
            except WaybillError as exc:
                messages.error(request, exc.detail)
            else:
                return redirect("admin:finance_costaddition_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Cost addition {addition.reference}",
            "addition": addition,
            "cost": selectors.order_cost(addition.order) if addition.order else None,
            "may_approve": may_approve,
            "may_reject": may_reject,
        }
        return TemplateResponse(request, "admin/finance/costaddition_decide.html", context)

    def _decide(self, request, addition: CostAddition, decision: str | None) -> None:
        if decision == "approve":
            raw = (request.POST.get("amount") or "").strip()
            services.cost_addition_approve(
                cost_addition=addition,
                actor=_actor(request),
                amount=_decimal(raw) if raw else None,
                note=(request.POST.get("note") or "").strip(),
            )
            messages.success(request, f"Approved {addition.reference}.")
        elif decision == "reject":
            services.cost_addition_reject(
                cost_addition=addition,
                actor=_actor(request),
                reason=request.POST.get("reason") or "",
            )
            messages.success(request, f"Rejected {addition.reference}.")
        else:
            raise WaybillError("Approve or reject.")


def _decimal(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise WaybillError(f"'{raw[:20]}' is not an amount.") from None
    if not value.is_finite():
        raise WaybillError(f"'{raw[:20]}' is not an amount.")
    return value


class InvoiceLineInline(ReadOnly, admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = (
        "position",
        "kind",
        "reference",
        "order",
        "amount",
        "expected",
        "finding",
        "finding_detail",
        "approved_amount",
        "adjustment_reason",
        "disputed",
    )
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "number",
        "carrier",
        "period_from",
        "period_to",
        "currency",
        "status",
        "findings",
        "received_at_local",
        "decide_link",
    )
    list_filter = ("status", "carrier", "live_mode")
    search_fields = ("number",)
    list_select_related = ("carrier",)
    inlines = [InvoiceLineInline]
    actions = ["export_csv"]
    exclude = ("fingerprint", "received_at", "decided_at", "disputed_at")
    received_at_local = admin_time("received_at", lambda i: carrier_zone(i.carrier), "Received at")
    decided_at_local = admin_time("decided_at", lambda i: carrier_zone(i.carrier), "Decided at")
    disputed_at_local = admin_time("disputed_at", lambda i: carrier_zone(i.carrier), "Disputed at")

    def get_readonly_fields(self, request, obj=None):
        fields = [f.name for f in Invoice._meta.fields if f.name not in self.exclude]
        return [*fields, "received_at_local", "decided_at_local", "disputed_at_local"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines")

    @admin.display(description="Findings")
    def findings(self, obj: Invoice) -> str:
        flagged = [line for line in obj.lines.all() if line.finding not in CLEAN_FINDINGS]
        total = len(obj.lines.all())
        return f"{total - len(flagged)} of {total} lines clean"

    @admin.display(description="")
    def decide_link(self, obj: Invoice) -> str:
        if obj.status == InvoiceStatus.APPROVED:
            return ""
        url = reverse("admin:finance_invoice_decide", args=[obj.id])
        return format_html('<a href="{}">Decide…</a>', url)

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("finance.approve_invoice")

    def has_dispute_permission(self, request) -> bool:
        return request.user.has_perm("finance.dispute_invoice")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("finance.export_invoice")

    @admin.action(description="Export the selected as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        invoices = selectors.invoices_for_export(queryset.values_list("id", flat=True))
        return _csv_response(invoices, "invoices.csv")

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "totals_url": reverse("admin:finance_invoice_totals"),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        site = self.admin_site
        return [
            path("totals/", site.admin_view(self.totals_view), name="finance_invoice_totals"),
            path(
                "<uuid:invoice_id>/decide/",
                site.admin_view(self.decide_view),
                name="finance_invoice_decide",
            ),
            path(
                "<uuid:invoice_id>/export.csv",
                site.admin_view(self.export_view),
                name="finance_invoice_export",
            ),
            *super().get_urls(),
        ]

    def totals_view(self, request):
        """Per carrier and month: invoices, invoiced and approved sums, additions approved."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        live = request.GET.get("mode") != "test"
        context = {
            **self.admin_site.each_context(request),
            "title": "Totals per carrier and month",
            "rows": selectors.totals_by_carrier_and_month(live_mode=live),
            "live": live,
        }
        return TemplateResponse(request, "admin/finance/totals.html", context)

    def export_view(self, request, invoice_id):
        if not self.has_export_permission(request):
            raise PermissionDenied
        invoice = selectors.invoice_for_staff(invoice_id)
        return _csv_response([invoice], f"invoice-{invoice.pk}.csv")

    def decide_view(self, request, invoice_id):
        """The lines with their findings: approve (each adjustment with its reason) or
        dispute (the lines ticked, with a reason)."""
        may_approve, may_dispute = (
            self.has_approve_permission(request),
            self.has_dispute_permission(request),
        )
        if not (may_approve or may_dispute):
            raise PermissionDenied
        invoice = selectors.invoice_for_staff(invoice_id)
        if request.method == "POST":
            decision = request.POST.get("decision")
            if (decision == "approve" and not may_approve) or (
                decision == "dispute" and not may_dispute
            ):
                raise PermissionDenied
            try:
                self._decide(request, invoice, decision)
            except WaybillError as exc:
                messages.error(request, _error_text(exc))
            else:
                return redirect("admin:finance_invoice_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Invoice {invoice.number} from {invoice.carrier}",
            "invoice": invoice,
            "lines": list(invoice.lines.all()),
            "clean": CLEAN_FINDINGS,
            "may_approve": may_approve,
            "may_dispute": may_dispute,
            "may_export": self.has_export_permission(request),
        }
        return TemplateResponse(request, "admin/finance/invoice_decide.html", context)

    def _decide(self, request, invoice: Invoice, decision: str | None) -> None:
        post = request.POST
        if decision == "approve":
            adjustments = {}
            for line in invoice.lines.all():
                raw = (post.get(f"amount_{line.position}") or "").strip()
                if raw:
                    adjustments[line.position] = services.Adjustment(
                        _decimal(raw), post.get(f"reason_{line.position}") or ""
                    )
            services.invoice_approve(
                invoice=invoice, actor=_actor(request), adjustments=adjustments
            )
            messages.success(request, f"Approved invoice {invoice.number}: it is final.")
        elif decision == "dispute":
            positions = [
                line.position
                for line in invoice.lines.all()
                if post.get(f"dispute_{line.position}")
            ]
            services.invoice_dispute(
                invoice=invoice,
                actor=_actor(request),
                reason=post.get("reason") or "",
                positions=positions or None,
            )
            messages.success(request, f"Disputed invoice {invoice.number}.")
        else:
            raise WaybillError("Approve or dispute.")


def _error_text(exc: WaybillError) -> str:
    named = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors if e.get("field"))
    return f"{exc.detail} {named}".strip()


def _csv_response(invoices: list[Invoice], name: str) -> HttpResponse:
    response = HttpResponse(documents.invoices_csv(invoices), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
