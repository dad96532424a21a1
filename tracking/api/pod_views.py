"""Proof of delivery over the API: the carrier uploads it, the shipper reads it (JSON with
expiring image links, or the ePOD PDF); the signed image links are served here too."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from config.api.errors import InvalidInput
from config.api.fields import in_accepted_range
from config.api.schema import ERROR_RESPONSES
from config.api.views import CarrierView, ShipperView
from config.errors import NotFound
from tracking import documents, pod, selectors
from tracking.api.document_serializers import PodSerializer
from tracking.epod import epod_pdf

POD_FIELDS = ("signatureName", "signatureTime", "signature", "photos", "deviationImages")
PodUploadSerializer = inline_serializer(
    "PodUpload",
    fields={
        "signatureName": serializers.CharField(required=False, max_length=200),
        "signatureTime": serializers.DateTimeField(required=False),
        "signature": serializers.ImageField(required=False),
        "photos": serializers.ListField(child=serializers.ImageField(), required=False),
        "deviationImages": serializers.ListField(child=serializers.ImageField(), required=False),
    },
)


def _signature_time(value: str | None) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.for_field(
            "signatureTime", f"'{value[:40]}' is not an ISO 8601 date and time.", "invalid"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput.for_field(
            "signatureTime", "Give the time with its UTC offset, e.g. +01:00.", "no_offset"
        )
    if not in_accepted_range(moment):
        raise InvalidInput.for_field("signatureTime", "The year is out of range.", "out_of_range")
    return moment


def _upload_from(request) -> pod.PodUpload:
    data, files = request.data, request.FILES
    unknown = sorted(set(data) - set(POD_FIELDS))
    if unknown:
        raise InvalidInput.for_field(unknown[0], "Unknown field.", "unknown_field")
    name = data.get("signatureName")
    if name is not None and (len(name) > 200 or "\x00" in name):
        raise InvalidInput.for_field("signatureName", "At most 200 characters, no NUL.")
    signatures = files.getlist("signature")
    if len(signatures) > 1:
        raise InvalidInput.for_field("signature", "Send one signature image.", "one_expected")
    return pod.PodUpload(
        signed_by=name.strip() if name is not None else None,
        signed_at=_signature_time(data.get("signatureTime")),
        signature=("signature", signatures[0]) if signatures else None,
        photos=[(f"photos[{i}]", f) for i, f in enumerate(files.getlist("photos"))],
        deviation_images=[
            (f"deviationImages[{i}]", f) for i, f in enumerate(files.getlist("deviationImages"))
        ],
    )


class CarrierPodView(CarrierView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="carrier_orders_pod_create",
        tags=["carriers"],
        summary="Upload the proof of delivery of an order you carry",
        description=(
            "multipart/form-data: `signatureName`, `signatureTime` (ISO 8601 with offset), "
            "`signature` (one image), `photos` and `deviationImages` (repeatable). Images are "
            "PNG, JPEG or WebP (told from their bytes), at most POD_IMAGE_MAX_BYTES bytes and "
            "POD_IMAGE_MAX_SIDE_PX pixels a side. A new signature replaces the old one; photos "
            "and deviation images are added. 201 the first time, 200 after."
        ),
        request={"multipart/form-data": PodUploadSerializer},
        responses={200: PodSerializer, 201: PodSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, order_id):
        # The order first: a carrier that does not carry it learns nothing from the body.
        order = selectors.carrier_order_get(tenant=self.tenant, order_id=order_id)
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        limit = settings.POD_MAX_IMAGES * settings.POD_IMAGE_MAX_BYTES + 1_000_000
        if length > limit:
            raise InvalidInput.for_field("body", f"The upload is larger than {limit} bytes.")
        upload = _upload_from(request)
        record, created = pod.pod_upload(order=order, carrier=self.carrier, upload=upload)
        record = selectors.pod_of(order)
        record.order = order
        return Response(documents.pod_document(record), status=201 if created else 200)


class OrderPodView(ShipperView):
    @extend_schema(
        operation_id="orders_pod_retrieve",
        tags=["tracking"],
        summary="The proof of delivery of an order",
        description=(
            "Signature (name, time, image), photos and deviation images. Each image's `url` is "
            f"signed and works for {settings.POD_LINK_MAX_AGE_S} s (`expiresAt`); ask again "
            "for fresh links. 404 until the carrier has uploaded one."
        ),
        responses={200: PodSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, order_id):
        record = selectors.pod_get(tenant=self.tenant, order_id=order_id)
        return Response(documents.pod_document(record))


class OrderPodPdfView(ShipperView):
    @extend_schema(
        operation_id="orders_pod_pdf",
        tags=["tracking"],
        summary="The proof of delivery as a PDF (ePOD)",
        responses={
            (200, "application/pdf"): OpenApiResponse(description="The ePOD."),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request, order_id):
        record = selectors.pod_get(tenant=self.tenant, order_id=order_id)
        content = epod_pdf(record, image_bytes=pod.pod_image_contents(record))
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="pod-{record.order.creator_order_id[:60]}.pdf"'.encode(
                "ascii", "replace"
            ).decode()
        )
        return response


@require_GET
def pod_image_serve(request, token: str):
    """A POD image behind a signed link: 403 when the link is expired or forged, 404 when
    the image is gone. No key: the link is the grant (the tracking page uses it too)."""
    try:
        image = pod.image_by_token(token)
    except (pod.LinkExpired, pod.LinkInvalid):
        return HttpResponseForbidden("This link has expired or is not valid.")
    except NotFound:
        raise Http404("No such image.") from None
    try:
        handle = image.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("No such image.") from None
    response = FileResponse(handle, content_type=image.content_type)
    response["Cache-Control"] = f"private, max-age={settings.POD_LINK_MAX_AGE_S}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
