from django.conf import settings
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework.response import Response

from accounts.api.authentication import ApiKeyAuthentication
from config.api.errors import InvalidInput, WaybillError, validation_body
from config.api.schema import ERROR_RESPONSES, WaybillAutoSchema
from config.api.text import document_errors
from config.api.views import CarrierView
from tracking.api.authentication import CarrierEventsTokenAuthentication
from tracking.api.serializers import (
    MAX_BATCH,
    BatchResultSerializer,
    CarrierEventBatchSerializer,
    CarrierEventSerializer,
    EventResultSerializer,
    SeedEventSerializer,
)
from tracking.services import FactOutcome, carrier_events_take

# The answer of each item: a new timeline row is created, a repeat changes nothing.
_OUTCOME_STATUS = {
    FactOutcome.APPLIED: 201,
    FactOutcome.RECORDED: 201,
    FactOutcome.DUPLICATE: 200,
    FactOutcome.REFUSED: 409,
}


def _row(item, *, result=None, error: WaybillError | None = None) -> dict:
    item = item if isinstance(item, dict) else {}
    error = error or (result.error if result else None)
    outcome = result.outcome if result else "error"
    return {
        "id": item.get("id") if isinstance(item.get("id"), str) else None,
        "type": item.get("type") if isinstance(item.get("type"), str) else None,
        "status": error.status_code if error and not result else _OUTCOME_STATUS[outcome],
        "outcome": outcome,
        "trackingEventId": result.tracking_event_id if result else None,
        "orderId": result.order_id if result else None,
        "error": error.as_body() if error else None,
    }


class _BodyRequired(WaybillAutoSchema):
    # One of three shapes (oneOf), each with required fields: the body itself is required.
    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
        return body


class CarrierEventsView(CarrierView):
    schema = _BodyRequired()
    authentication_classes = [ApiKeyAuthentication, CarrierEventsTokenAuthentication]
    max_body_bytes = settings.API_MAX_BULK_BODY_BYTES
    json_items_checked_alone = "events"

    @extend_schema(
        operation_id="carrier_events_create",
        tags=["carriers"],
        summary="Report what happened to orders you carry",
        request=PolymorphicProxySerializer(
            "CarrierEventRequest",
            serializers=[CarrierEventSerializer, SeedEventSerializer, CarrierEventBatchSerializer],
            resource_type_field_name=None,
        ),
        responses={
            200: BatchResultSerializer,
            201: EventResultSerializer,
            **ERROR_RESPONSES,
        },
        description=(
            "One event (Waybill's compact form, or a seed 004 envelope exactly as a last-mile "
            'platform sends it) or `{"events": [...]}`, up to 1,000, each with its own '
            "result. Authenticate with your carrier key or `?token=` (an events token). A new "
            "event answers 201, a repeat of its id 200 (nothing changes); an event older than "
            "the last one applied to its order or collo is kept but moves no status. An order "
            "you do not carry is a 404, an illegal move (a delivery on a returned order) 409."
        ),
    )
    def post(self, request):
        body = request.data
        if isinstance(body, dict) and "events" in body:
            return self._batch(body)
        [result] = carrier_events_take(carrier=self.carrier, live_mode=self.live_mode, items=[body])
        if isinstance(result, WaybillError):
            return Response(result.as_body(), status=result.status_code)
        row = _row(body, result=result)
        if result.error:
            # The one error shape, with what became of the event (kept in the timeline).
            kept = {k: row[k] for k in ("outcome", "trackingEventId", "orderId")}
            return Response({**result.error.as_body(), **kept}, status=409)
        return Response(row, status=row["status"])

    def _batch(self, body: dict) -> Response:
        extra = sorted(set(body) - {"events"})
        if extra:
            raise InvalidInput.for_field(extra[0][:60], "Unknown field.", "unknown_field")
        items = body["events"]
        if not isinstance(items, list) or not items:
            raise InvalidInput.for_field("events", "A list of 1 to 1,000 events.")
        if len(items) > MAX_BATCH:
            raise InvalidInput.for_field("events", f"At most {MAX_BATCH} events per request.")
        # A list holding something other than events is a broken batch, not a bad event.
        stray = next((i for i, item in enumerate(items) if not isinstance(item, dict)), None)
        if stray is not None:
            raise InvalidInput.for_field(f"events[{stray}]", "An event is an object.")
        rows, readable = [None] * len(items), []
        for index, item in enumerate(items):
            problems = document_errors(item, f"events[{index}]")
            if problems:
                rows[index] = _row(item, error=InvalidInput(**_as_error(problems)))
            else:
                readable.append(index)
        taken = carrier_events_take(
            carrier=self.carrier, live_mode=self.live_mode, items=[items[i] for i in readable]
        )
        for index, result in zip(readable, taken, strict=True):
            if isinstance(result, WaybillError):
                rows[index] = _row(items[index], error=result)
            else:
                rows[index] = _row(items[index], result=result)
        rows = [{"index": index, **row} for index, row in enumerate(rows)]
        count = {o: sum(1 for r in rows if r["outcome"] == o) for o in _OUTCOME_STATUS}
        return Response(
            {
                "received": len(rows),
                "applied": count[FactOutcome.APPLIED],
                "recorded": count[FactOutcome.RECORDED],
                "duplicate": count[FactOutcome.DUPLICATE],
                "failed": len(rows) - sum(count[o] for o in _OUTCOME_STATUS) + count["refused"],
                "results": rows,
            }
        )


def _as_error(problems: dict) -> dict:
    body = validation_body(problems)
    return {"detail": body["detail"], "errors": body["errors"]}
