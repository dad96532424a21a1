from django.urls import path

from finance.api import views

urlpatterns = [
    path(
        "carrier/cost-additions",
        views.CarrierCostAdditionsView.as_view(),
        name="carrier-cost-additions",
    ),
    path(
        "carrier/cost-additions/<uuid:cost_addition_id>/evidence",
        views.CarrierCostAdditionEvidenceView.as_view(),
        name="carrier-cost-addition-evidence",
    ),
    path("carrier/invoices", views.CarrierInvoicesView.as_view(), name="carrier-invoices"),
    path(
        "carrier/invoices/<uuid:invoice_id>",
        views.CarrierInvoiceDetailView.as_view(),
        name="carrier-invoice",
    ),
    path("cost-additions", views.CostAdditionListView.as_view(), name="cost-additions"),
    path("invoices", views.InvoiceListView.as_view(), name="invoices"),
    path(
        "finance/cost-additions/<uuid:cost_addition_id>/approve",
        views.CostAdditionApproveView.as_view(),
        name="finance-cost-addition-approve",
    ),
    path(
        "finance/cost-additions/<uuid:cost_addition_id>/reject",
        views.CostAdditionRejectView.as_view(),
        name="finance-cost-addition-reject",
    ),
    path(
        "finance/invoices/<uuid:invoice_id>",
        views.InvoiceDetailView.as_view(),
        name="finance-invoice",
    ),
    path(
        "finance/invoices/<uuid:invoice_id>/approve",
        views.InvoiceApproveView.as_view(),
        name="finance-invoice-approve",
    ),
    path(
        "finance/invoices/<uuid:invoice_id>/dispute",
        views.InvoiceDisputeView.as_view(),
        name="finance-invoice-dispute",
    ),
    path(
        "finance/invoices/<uuid:invoice_id>/export.csv",
        views.InvoiceExportView.as_view(),
        name="finance-invoice-export",
    ),
]
