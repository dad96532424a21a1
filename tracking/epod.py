"""The ePOD: a proof of delivery as a PDF (fpdf2), for a shipper to keep or send on.

One A4 page (more when the photos need them): the order and its references, pickup and
delivery addresses, the collis, the times (each in its place's zone, named), the carrier,
the signature (name, time, image) and the photos. fpdf2's built-in Helvetica needs no font
file on the machine; it covers Latin-1, so any other character is shown by its closest
Latin-1 form (or "?") rather than failing the document.
"""

from __future__ import annotations

import io
import unicodedata

from fpdf import FPDF

from config.times import DELIVERY, PICKUP, admin_local, order_zone
from tracking.models import PodImageKind, ProofOfDelivery

PAGE_WIDTH_MM = 210
MARGIN_MM = 15


def latin1(text: object) -> str:
    """``text`` in what the core fonts can draw."""
    out = []
    for char in str(text or ""):
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


class _Epod(FPDF):
    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)

    def row(self, label: str, value: object) -> None:
        self.set_font("Helvetica", "B", 10)
        self.cell(45, 6, latin1(label))
        self.set_font("Helvetica", "", 10)
        self.multi_cell(
            0, 6, latin1(value if value not in (None, "") else "-"), new_x="LMARGIN", new_y="NEXT"
        )


def _address(order, kind: str) -> str:
    parts = [
        getattr(order, f"{kind}_address_primary"),
        getattr(order, f"{kind}_address_secondary"),
        " ".join(
            p
            for p in (getattr(order, f"{kind}_postal_code"), getattr(order, f"{kind}_country_code"))
            if p
        ),
    ]
    return ", ".join(p for p in parts if p)


def epod_pdf(pod: ProofOfDelivery, *, image_bytes: dict) -> bytes:
    """The PDF of ``pod`` (its order with collis, carrier and images loaded);
    ``image_bytes`` maps an image's id to its content."""
    order = pod.order
    pdf = _Epod(format="A4")
    pdf.set_margins(MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_MM)
    # Plain-text metadata: the order's id can be found in the file without rendering it.
    pdf.set_title(latin1(f"Proof of delivery {order.creator_order_id} ({order.id})"))
    pdf.set_creator("Waybill")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Proof of delivery", new_x="LMARGIN", new_y="NEXT")
    _order_section(pdf, pod)
    _signature_section(pdf, pod, image_bytes)
    _photos_section(pdf, pod, image_bytes)
    return bytes(pdf.output())


def _order_section(pdf: _Epod, pod: ProofOfDelivery) -> None:
    order = pod.order
    delivery_zone = order_zone(order, DELIVERY)
    pdf.set_font("Helvetica", "", 10)
    pdf.row("Order", order.creator_order_id)
    pdf.row("Waybill id", order.id)
    pdf.row("Status", order.get_status_display())
    pdf.row("Carrier", pod.carrier.name)
    pdf.heading("Addresses")
    pdf.row("Pickup", _address(order, "pickup"))
    pdf.row("Delivery", _address(order, "delivery"))
    pdf.heading("Times")
    pdf.row("Pickup window", _window(order, "pickup", order_zone(order, PICKUP)))
    pdf.row("Delivery window", _window(order, "delivery", delivery_zone))
    pdf.row("Delivered", admin_local(order.delivered_at, delivery_zone))
    collis = list(order.collis.all())
    pdf.heading(f"Collis ({len(collis)})")
    for collo in collis:
        weight = f"{collo.weight.normalize():f} kg" if collo.weight is not None else ""
        pdf.row(
            collo.barcode or f"#{collo.position}",
            " ".join(filter(None, [collo.description, weight])),
        )


def _window(order, kind: str, zone: str) -> str:
    start, end = getattr(order, f"{kind}_from"), getattr(order, f"{kind}_to")
    if start is None and end is None:
        return "-"
    return f"{admin_local(start, zone)} to {admin_local(end, zone)}"


def _signature_section(pdf: _Epod, pod: ProofOfDelivery, image_bytes: dict) -> None:
    pdf.heading("Signature")
    pdf.row("Signed by", pod.signed_by)
    pdf.row("Signed at", admin_local(pod.signed_at, order_zone(pod.order, DELIVERY)))
    signature = next((i for i in pod.images.all() if i.kind == PodImageKind.SIGNATURE), None)
    if signature is not None and signature.id in image_bytes:
        _image(pdf, image_bytes[signature.id], signature, max_w=80, max_h=40)


def _photos_section(pdf: _Epod, pod: ProofOfDelivery, image_bytes: dict) -> None:
    for kind, title in ((PodImageKind.PHOTO, "Photos"), (PodImageKind.DEVIATION, "Deviations")):
        images = [i for i in pod.images.all() if i.kind == kind and i.id in image_bytes]
        if not images:
            continue
        pdf.heading(f"{title} ({len(images)})")
        for image in images:
            _image(pdf, image_bytes[image.id], image, max_w=120, max_h=90)


def _image(pdf: _Epod, content: bytes, image, *, max_w: float, max_h: float) -> None:
    scale = min(max_w / image.width, max_h / image.height)
    width, height = image.width * scale, image.height * scale
    if pdf.get_y() + height > pdf.h - MARGIN_MM:
        pdf.add_page()
    pdf.image(io.BytesIO(content), x=MARGIN_MM, y=pdf.get_y(), w=width, h=height)
    pdf.ln(height + 3)
