"""Carrier cost additions and invoices, and finance's decisions on them.

Money is ``Decimal`` with two places, rounded by ``config.money``; a sum never mixes
currencies (a cost addition is in its order's plan currency, an invoice in one currency).
Decisions are final: each model's status table says which moves exist, and the services
claim a move with a compare-and-set, so two approvals of one object cannot both win.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from accounts.tenancy import TenantQuerySet


class CostAdditionReason(models.TextChoices):
    """Why a carrier asks for more than the planned price: a documented contract (the
    ``reasonCode`` enum of the API and of ``CostAdditionApproved``)."""

    WAITING_TIME = "waiting-time", "Waiting time"
    EXTRA_STOP = "extra-stop", "Extra stop"
    FAILED_DELIVERY_REATTEMPT = "failed-delivery-reattempt", "Failed delivery re-attempt"
    TOLL = "toll", "Toll"
    FUEL = "fuel", "Fuel"
    OTHER = "other", "Other"


class CostAdditionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


# The one table of decisions: approved and rejected are final.
COST_ADDITION_MOVES: dict[str, frozenset[str]] = {
    CostAdditionStatus.PENDING: frozenset(
        {CostAdditionStatus.APPROVED, CostAdditionStatus.REJECTED}
    ),
    CostAdditionStatus.APPROVED: frozenset(),
    CostAdditionStatus.REJECTED: frozenset(),
}


class CostAdditionQuerySet(TenantQuerySet):
    # A shipper sees the additions on its orders (a route's belong to no shipper); a carrier
    # sees its own.
    shipper_path = "order__shipper"
    carrier_path = "carrier"


class CostAddition(models.Model):
    """A carrier's request to be paid more for an order or a route it carries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    carrier = models.ForeignKey(
        "carriers.Carrier", on_delete=models.PROTECT, related_name="cost_additions"
    )
    live_mode = models.BooleanField()
    reference = models.CharField(max_length=100, help_text="The carrier's own reference.")
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cost_additions",
    )
    route = models.ForeignKey(
        "routing.Route",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cost_additions",
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="As requested.")
    currency = models.CharField(max_length=3)
    reason_code = models.CharField(max_length=30, choices=CostAdditionReason.choices)
    reason_text = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=CostAdditionStatus.choices, default=CostAdditionStatus.PENDING
    )
    approved_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    decision_note = models.CharField(
        max_length=500, blank=True, help_text="Why rejected (required), or a note on approval."
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    # What the request said, hashed: the same reference with another body is a conflict.
    fingerprint = models.CharField(max_length=64)

    objects = CostAdditionQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]
        permissions = [
            ("approve_costaddition", "Can approve a carrier's cost addition"),
            ("reject_costaddition", "Can reject a carrier's cost addition"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "live_mode", "reference"],
                name="cost_addition_reference_unique_per_carrier_and_mode",
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=True) ^ Q(route__isnull=True),
                name="cost_addition_is_for_an_order_or_a_route",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.carrier})"

    def can_decide(self, to: str) -> bool:
        return to in COST_ADDITION_MOVES[self.status]


class CostAdditionEvidence(models.Model):
    """An image a carrier sends to prove a cost addition (checked as POD images are)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cost_addition = models.ForeignKey(
        CostAddition, on_delete=models.CASCADE, related_name="evidence"
    )
    file = models.FileField(upload_to="cost-additions/%Y/%m/")
    content_type = models.CharField(max_length=50)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField(help_text="bytes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "cost addition evidence"

    def __str__(self) -> str:
        return f"{self.content_type} {self.width}×{self.height}"


class InvoiceStatus(models.TextChoices):
    RECEIVED = "received", "Received (audited)"
    DISPUTED = "disputed", "Disputed"
    APPROVED = "approved", "Approved (final)"


# Approval is final; a disputed invoice may still be approved once the dispute is settled.
INVOICE_MOVES: dict[str, frozenset[str]] = {
    InvoiceStatus.RECEIVED: frozenset({InvoiceStatus.APPROVED, InvoiceStatus.DISPUTED}),
    InvoiceStatus.DISPUTED: frozenset({InvoiceStatus.APPROVED}),
    InvoiceStatus.APPROVED: frozenset(),
}


class InvoiceQuerySet(TenantQuerySet):
    # A shipper reaches an invoice only through its own lines (``InvoiceLine.objects.of``).
    shipper_path = None
    carrier_path = "carrier"


class Invoice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    carrier = models.ForeignKey(
        "carriers.Carrier", on_delete=models.PROTECT, related_name="invoices"
    )
    live_mode = models.BooleanField()
    number = models.CharField(max_length=100, help_text="The carrier's invoice number.")
    issue_date = models.DateField()
    period_from = models.DateField()
    period_to = models.DateField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.RECEIVED
    )
    received_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    dispute_reason = models.CharField(max_length=500, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    disputed_by = models.CharField(max_length=200, blank=True)
    fingerprint = models.CharField(max_length=64)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        permissions = [
            ("approve_invoice", "Can approve a carrier's invoice"),
            ("dispute_invoice", "Can dispute a carrier's invoice"),
            ("export_invoice", "Can export an invoice's detail"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "live_mode", "number"],
                name="invoice_number_unique_per_carrier_and_mode",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.carrier})"

    def can_move(self, to: str) -> bool:
        return to in INVOICE_MOVES[self.status]

    def clean(self) -> None:
        if self.period_from and self.period_to and self.period_from > self.period_to:
            raise ValidationError("The period ends before it starts.")


class LineKind(models.TextChoices):
    ORDER = "order", "Order"
    ROUTE = "route", "Route"
    COST_ADDITION = "cost-addition", "Cost addition"


class Finding(models.TextChoices):
    """What the audit found on an invoice line (``finance.audit``): a documented contract."""

    MATCH = "match", "Matches the expected amount"
    WITHIN_TOLERANCE = "within-tolerance", "Differs, within the carrier's tolerance"
    OVER_TOLERANCE = "over-tolerance", "Differs beyond the carrier's tolerance"
    DUPLICATE = "duplicate", "Already invoiced"
    UNKNOWN_REFERENCE = "unknown-reference", "References nothing Waybill knows"
    NOT_CARRIED = "not-carried", "Not carried by this carrier"
    CANCELLED_ORDER = "cancelled-order", "Charges a cancelled order"
    NOT_APPROVED = "not-approved", "Charges a cost addition not approved"
    NO_PRICE = "no-price", "No expected price to compare with"
    OTHER_CURRENCY = "other-currency", "Expected in another currency"


# Findings that need no look from finance before approval.
CLEAN_FINDINGS = frozenset({Finding.MATCH, Finding.WITHIN_TOLERANCE})


class InvoiceLineQuerySet(TenantQuerySet):
    # A shipper sees the lines of its own orders (a cost addition's line names its order).
    shipper_path = "order__shipper"
    carrier_path = "invoice__carrier"
    live_mode_path = "invoice__live_mode"


class InvoiceLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=15, choices=LineKind.choices)
    reference = models.CharField(max_length=100, help_text="As the carrier sent it.")
    description = models.CharField(max_length=500, blank=True)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    route = models.ForeignKey(
        "routing.Route", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cost_addition = models.ForeignKey(
        CostAddition, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="As invoiced.")
    expected = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    finding = models.CharField(max_length=20, choices=Finding.choices)
    finding_detail = models.CharField(max_length=300, blank=True)
    approved_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    adjustment_reason = models.CharField(max_length=500, blank=True)
    disputed = models.BooleanField(default=False)

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "position"], name="invoice_line_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice.number} #{self.position}"
