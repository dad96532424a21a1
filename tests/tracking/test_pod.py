"""Proof of delivery: the carrier's multipart upload with its checks, the shipper's read with
expiring image links, the signed link view, and the ePOD PDF (its text extracted)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import _client
from tests.factories import CarrierFactory
from tests.security.test_tenant_isolation import _route_with
from tests.tracking.pod_helpers import carried_order, image_bytes, local, move, upload
from tracking.models import PodImage, ProofOfDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def order(client_a, carrier):
    return carried_order(client_a, carrier)


def _post(client, order, **parts):
    return client.post(f"/api/v1/carrier/orders/{order.id}/pod", parts, format="multipart")


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_the_carrier_uploads_a_pod_and_types_come_from_the_bytes(carrier_client, order, _media):
    response = _post(
        carrier_client,
        order,
        signatureName="Jane Doe",
        signatureTime="2026-11-24T14:05:00+01:00",
        # A PNG the sender calls a JPEG: stored and served as what it is.
        signature=upload("sig.jpg", image_bytes("PNG"), "image/jpeg"),
        photos=[
            upload("door.jpg", image_bytes("JPEG", (640, 480))),
            upload("box.webp", image_bytes("WEBP", (320, 320)), "application/octet-stream"),
        ],
        deviationImages=[upload("dent.png", image_bytes("PNG", (200, 200)))],
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["signature"]["name"] == "Jane Doe"
    assert body["signature"]["signedAt"] == "2026-11-24T14:05:00+01:00"  # delivery place's zone
    assert body["signature"]["image"]["contentType"] == "image/png"
    assert [p["contentType"] for p in body["photos"]] == ["image/jpeg", "image/webp"]
    assert (body["photos"][0]["width"], body["photos"][0]["height"]) == (640, 480)
    assert len(body["deviationImages"]) == 1
    assert body["carrier"]["id"] == str(order.plans.get(is_current=True).carrier_id)
    stored = PodImage.objects.filter(pod__order=order)
    assert stored.count() == 4
    for image in stored:  # through the storage, under Waybill's names, not the sender's
        path = Path(_media) / image.file.name
        assert path.is_file() and path.stat().st_size == image.size
        assert "sig" not in image.file.name and "door" not in image.file.name


def test_a_second_upload_replaces_the_signature_and_adds_photos(
    carrier_client, order, _media, django_capture_on_commit_callbacks
):
    first = _post(
        carrier_client,
        order,
        signatureName="Jane Doe",
        signature=upload("a.png", image_bytes()),
        photos=[upload("p.png", image_bytes())],
    )
    assert first.status_code == 201
    old_signature = PodImage.objects.get(pod__order=order, kind="signature")

    with django_capture_on_commit_callbacks(execute=True):  # the old file goes on commit
        second = _post(
            carrier_client,
            order,
            signatureName="John Doe",
            signature=upload("b.png", image_bytes(color=(200, 0, 0))),
            photos=[upload("q.png", image_bytes())],
        )

    assert second.status_code == 200, second.json()
    assert second.json()["signature"]["name"] == "John Doe"
    assert len(second.json()["photos"]) == 2
    assert not PodImage.objects.filter(id=old_signature.id).exists()
    assert not (Path(_media) / old_signature.file.name).exists()
    assert ProofOfDelivery.objects.filter(order=order).count() == 1


@pytest.mark.parametrize(
    ("parts", "field", "code"),
    [
        ({"signature": ("s.png", b"GIF89a" + b"\0" * 64)}, "signature", "unsupported_image_type"),
        ({"photos": [("a.png", "png"), ("t.png", b"just text, no image")]}, "photos[1]", None),
        ({"photos": [("big.png", "huge")]}, "photos[0]", "too_many_pixels"),
        ({"photos": [("dot.png", "tiny")]}, "photos[0]", "too_few_pixels"),
        ({"deviationImages": [("cut.png", "truncated")]}, "deviationImages[0]", "damaged_image"),
        ({"signature": ("h.png", "heavy")}, "signature", "too_large"),
        ({"signature": ("e.png", b"")}, "signature", None),
        ({"signatureTime": "2026-14-01T10:00:00+01:00"}, "signatureTime", "invalid"),
        ({"signatureTime": "2026-11-24T10:00:00+B01:00"}, "signatureTime", "invalid"),
        ({"signatureTime": "2026-11-24T10:00:00"}, "signatureTime", "no_offset"),
        ({"signatureName": "x", "colour": "red"}, "colour", "unknown_field"),
        ({}, "signature", "required"),
    ],
)
def test_bad_uploads_are_400s_naming_the_field(carrier_client, order, settings, parts, field, code):
    settings.POD_IMAGE_MAX_BYTES = 20_000
    contents = {
        "png": image_bytes(),
        "huge": image_bytes("PNG", (settings.POD_IMAGE_MAX_SIDE_PX + 1, 20)),
        "tiny": image_bytes("PNG", (4, 4)),
        "truncated": image_bytes("PNG", (300, 300))[:-40],
        # Noise does not compress: well over 20,000 bytes.
        "heavy": __import__("os").urandom(30_000),
    }

    def part(name, content):
        return upload(name, contents.get(content, content))

    data = {}
    for key, value in parts.items():
        if isinstance(value, list):
            data[key] = [part(*item) for item in value]
        elif isinstance(value, tuple):
            data[key] = part(*value)
        else:
            data[key] = value

    response = _post(carrier_client, order, **data)

    assert response.status_code == 400, response.content
    assert _fields(response) == [field]
    if code:
        assert response.json()["errors"][0]["code"] == code
    assert not PodImage.objects.exists()


def test_a_pod_holds_a_bounded_number_of_images(carrier_client, order, settings):
    settings.POD_MAX_IMAGES = 2
    response = _post(
        carrier_client, order, photos=[upload(f"{i}.png", image_bytes()) for i in range(3)]
    )
    assert response.status_code == 400
    assert _fields(response) == ["photos"]


def test_only_the_carrier_that_carries_the_order_uploads(client_a, carrier, order):
    other = _client(carrier=CarrierFactory(slug="someone-else"))
    assert _post(other, order, signature=upload("s.png", image_bytes())).status_code == 404
    # The shipper's own key is the wrong kind of key.
    assert _post(client_a, order, signature=upload("s.png", image_bytes())).status_code == 403
    # The same carrier in live mode does not carry a test-mode order.
    live = _client(carrier=carrier, mode="live")
    assert _post(live, order, signature=upload("s.png", image_bytes())).status_code == 404
    assert not ProofOfDelivery.objects.exists()


def test_the_operator_of_the_route_carries_an_order_on_it(client_a, carrier):
    platform = CarrierFactory(slug="last-mile")
    order = carried_order(client_a, carrier)
    route = _route_with(order)
    client = _client(carrier=platform)
    assert _post(client, order, signature=upload("s.png", image_bytes())).status_code == 404

    route.vehicle_group.operator = platform
    route.vehicle_group.save()

    response = _post(client, order, signature=upload("s.png", image_bytes()))
    assert response.status_code == 201, response.json()
    assert response.json()["carrier"]["slug"] == "last-mile"


def test_the_shipper_reads_the_pod_through_links_that_expire(
    client_a, client_b, anonymous_client, carrier_client, order, settings
):
    assert client_a.get(f"/api/v1/orders/{order.id}/pod").status_code == 404  # none yet
    content = image_bytes("PNG", (300, 100))
    _post(carrier_client, order, signatureName="Jane", signature=upload("s.png", content))

    response = client_a.get(f"/api/v1/orders/{order.id}/pod")
    assert response.status_code == 200
    link = response.json()["signature"]["image"]
    assert link["expiresAt"]
    served = anonymous_client.get(link["url"])  # the link is the grant: no key
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == content

    assert client_b.get(f"/api/v1/orders/{order.id}/pod").status_code == 404
    forged = link["url"][:-3] + ("aaa" if not link["url"].endswith("aaa") else "bbb")
    assert anonymous_client.get(forged).status_code == 403
    assert anonymous_client.get("/pod/images/not-a-token").status_code == 403

    settings.POD_LINK_MAX_AGE_S = -1  # every link signed so far is past its age
    assert anonymous_client.get(link["url"]).status_code == 403

    settings.POD_LINK_MAX_AGE_S = 900
    PodImage.objects.all().delete()
    assert anonymous_client.get(link["url"]).status_code == 404


def test_the_epod_pdf_carries_the_order_its_times_signature_and_photos(
    client_a, client_b, carrier, carrier_client, order, settings
):
    order = move(order, "picked_up", "delivered")
    order.delivered_at = local(2026, 11, 24, 14, 3)
    type(order).objects.filter(id=order.id).update(delivered_at=order.delivered_at)
    _post(
        carrier_client,
        order,
        signatureName="Jane Doe",
        signatureTime="2026-11-24T13:05:00Z",
        signature=upload("s.png", image_bytes("PNG", (300, 100))),
        photos=[upload("p.jpg", image_bytes("JPEG", (640, 480)))],
    )

    response = client_a.get(f"/api/v1/orders/{order.id}/pod.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    (Path(settings.VAR_DIR) / "epod-sample.pdf").write_bytes(response.content)  # to look at
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Proof of delivery",
        order.creator_order_id,
        str(order.id),
        "Søtorvet 5",  # pickup
        "Artillerivej 86",  # delivery
        carrier.name,
        "Jane Doe",
        # Signed 13:05 UTC, shown on the delivery place's clock.
        "2026-11-24 14:05 (Europe/Copenhagen)",
        "2026-11-24 14:03 (Europe/Copenhagen)",
        *[c.barcode for c in order.collis.all()],
    ):
        assert expected in text, (expected, text)
    assert sum(len(page.images) for page in reader.pages) == 2  # signature and photo
    assert client_b.get(f"/api/v1/orders/{order.id}/pod.pdf").status_code == 404
