"""The Go API for shippers: an order's and a collo's tracking (seed 000)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from config.api.schema import ERROR_RESPONSES
from config.api.views import ShipperView
from tracking import documents, selectors
from tracking.api.document_serializers import ColloTrackingSerializer, OrderTrackingSerializer


class OrderTrackingView(ShipperView):
    @extend_schema(
        operation_id="orders_tracking_retrieve",
        tags=["tracking"],
        summary="Where an order is: status, timeline, last position, ETA window, POD",
        description=(
            "Every fact its carriers reported, oldest first: type, time (in the place's zone), "
            "collo, position, driver, executor, deviation with images, source, and whether it "
            "moved the status (`applied`). `eta` is the carrier's latest ETA window, else the "
            "delivery stop's, else the promised one (`eta.source`); null once delivered. "
            "`pod` links the proof of delivery once there is one."
        ),
        responses={200: OrderTrackingSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, order_id):
        order = selectors.shipper_order_get(tenant=self.tenant, order_id=order_id)
        timeline = selectors.order_timeline(order)
        return Response(
            documents.order_tracking_document(
                order,
                timeline=timeline,
                eta=selectors.eta_window(order, timeline),
                has_pod=selectors.pod_exists(order),
            )
        )


class ColloTrackingView(ShipperView):
    @extend_schema(
        operation_id="collis_tracking_retrieve",
        tags=["tracking"],
        summary="A collo's timeline, by its barcode",
        description=(
            "The collo's own facts and its order's, oldest first. When several of your orders "
            "carry the barcode, the newest order's collo."
        ),
        responses={200: ColloTrackingSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, barcode):
        collo = selectors.collo_get(tenant=self.tenant, barcode=barcode)
        return Response(
            documents.collo_tracking_document(collo, timeline=selectors.collo_timeline(collo))
        )
