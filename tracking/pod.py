"""Proof of delivery: the carrier's upload (signature, photos, deviation images) and the
expiring links its images are shown through.

Every image is checked before anything is stored: its size in bytes, its type told from its
bytes by Pillow (PNG, JPEG or WebP; the part's Content-Type and file name are not trusted),
and its pixel size (read from the header, before any decoding). Files go through Django's
storage API under a name Waybill makes, never the sender's.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from config.errors import InvalidInput, NotFound
from tracking.models import PodImage, PodImageKind, ProofOfDelivery

# Pillow's format name → what the file is served as, and its extension.
IMAGE_TYPES = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
}
_SIGNER_SALT = "waybill.tracking.pod-image"


@dataclass
class CheckedImage:
    kind: str
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass
class PodUpload:
    """What one POST carries; each image with the name of the field it came in."""

    signed_by: str | None = None
    signed_at: datetime | None = None
    signature: tuple[str, object] | None = None  # (field, uploaded file)
    photos: list[tuple[str, object]] = field(default_factory=list)
    deviation_images: list[tuple[str, object]] = field(default_factory=list)


def image_check(upload, *, field_name: str, kind: str) -> CheckedImage:
    """The uploaded file as a checked image, or an InvalidInput naming ``field_name``."""
    size = getattr(upload, "size", None) or 0
    limit = settings.POD_IMAGE_MAX_BYTES
    if size > limit:
        raise InvalidInput.for_field(
            field_name, f"The image is {size} bytes; at most {limit} are accepted.", "too_large"
        )
    if size == 0:
        raise InvalidInput.for_field(field_name, "The file is empty.", "empty")
    content = upload.read(limit + 1)
    if len(content) > limit:  # the part lied about its size
        raise InvalidInput.for_field(
            field_name, f"The image is larger than {limit} bytes.", "too_large"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content), formats=list(IMAGE_TYPES))
            width, height = image.size
            _side_check(field_name, width, height)
            image.verify()  # the whole file parses, not only its header
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise InvalidInput.for_field(
            field_name, "Not a PNG, JPEG or WebP image.", "unsupported_image_type"
        ) from None
    except Exception as exc:  # Pillow raises many kinds for a truncated or corrupt file
        raise InvalidInput.for_field(
            field_name, f"The image is damaged: {exc}.", "damaged_image"
        ) from None
    content_type, extension = IMAGE_TYPES[image.format]
    return CheckedImage(kind, content, content_type, extension, width, height)


def _side_check(field_name: str, width: int, height: int) -> None:
    largest, smallest = settings.POD_IMAGE_MAX_SIDE_PX, settings.POD_IMAGE_MIN_SIDE_PX
    if max(width, height) > largest:
        raise InvalidInput.for_field(
            field_name,
            f"The image is {width}×{height} pixels; each side may be at most {largest}.",
            "too_many_pixels",
        )
    if min(width, height) < smallest:
        raise InvalidInput.for_field(
            field_name,
            f"The image is {width}×{height} pixels; each side must be at least {smallest}.",
            "too_few_pixels",
        )


def _checked_images(upload: PodUpload) -> list[CheckedImage]:
    parts = [(PodImageKind.SIGNATURE, upload.signature)] if upload.signature else []
    parts += [(PodImageKind.PHOTO, part) for part in upload.photos]
    parts += [(PodImageKind.DEVIATION, part) for part in upload.deviation_images]
    return [image_check(file, field_name=name, kind=kind) for kind, (name, file) in parts]


def pod_upload(*, order, carrier, upload: PodUpload) -> tuple[ProofOfDelivery, bool]:
    """Record ``carrier``'s proof of delivery of ``order``: a new signature replaces the
    old one (and its name and time), photos and deviation images are added. Returns the POD
    and whether it was created."""
    if not (upload.signature or upload.photos or upload.deviation_images or upload.signed_by):
        raise InvalidInput.for_field(
            "signature", "Send a signature, photos or deviation images.", "required"
        )
    images = _checked_images(upload)
    with transaction.atomic():
        pod, created = ProofOfDelivery.objects.select_for_update().get_or_create(
            order=order, defaults={"carrier": carrier}
        )
        kept = pod.images.count() - (
            pod.images.filter(kind=PodImageKind.SIGNATURE).count() if upload.signature else 0
        )
        if kept + len(images) > settings.POD_MAX_IMAGES:
            raise InvalidInput.for_field(
                "photos",
                f"A proof of delivery holds at most {settings.POD_MAX_IMAGES} images.",
                "too_many_images",
            )
        if upload.signature:
            _images_delete(pod.images.filter(kind=PodImageKind.SIGNATURE))
        pod.carrier = carrier
        if upload.signed_by is not None:
            pod.signed_by = upload.signed_by
        if upload.signed_at is not None:
            pod.signed_at = upload.signed_at
        pod.save()
        for image in images:
            _image_store(pod, image)
    return pod, created


def _image_store(pod: ProofOfDelivery, image: CheckedImage) -> PodImage:
    return checked_image_save(PodImage(pod=pod, kind=image.kind), image)


def checked_image_save(row, image: CheckedImage):
    """Store a checked image in ``row`` (a model with ``file``, ``content_type``, ``width``,
    ``height`` and ``size``: a POD image, a cost addition's evidence) and save the row."""
    row.content_type = image.content_type
    row.width, row.height = image.width, image.height
    row.size = len(image.content)
    # Waybill names the file; a rolled-back upload may leave an unreferenced file behind,
    # never a row without its file.
    row.file.save(f"{uuid.uuid4().hex}.{image.extension}", ContentFile(image.content), save=False)
    row.save()
    return row


def _images_delete(images) -> None:
    names = [image.file.name for image in images]
    images.delete()
    storage = PodImage._meta.get_field("file").storage

    def remove() -> None:
        for name in names:
            storage.delete(name)

    # The files go only once the rows are gone for good.
    transaction.on_commit(remove)


# --- expiring links -----------------------------------------------------------------------


def image_token(image: PodImage) -> str:
    return TimestampSigner(salt=_SIGNER_SALT).sign(str(image.id))


def image_link(image: PodImage) -> dict[str, str]:
    """The path that serves ``image`` until it expires, and when it does (UTC)."""
    expires = timezone.now() + timedelta(seconds=settings.POD_LINK_MAX_AGE_S)
    return {"path": f"/pod/images/{image_token(image)}", "expiresAt": expires.isoformat()}


class LinkExpired(Exception):
    """A signed link that was valid once."""


class LinkInvalid(Exception):
    """A link Waybill never signed."""


def image_by_token(token: str) -> PodImage:
    """The image a signed link names; LinkExpired / LinkInvalid / NotFound otherwise."""
    signer = TimestampSigner(salt=_SIGNER_SALT)
    try:
        image_id = signer.unsign(token, max_age=settings.POD_LINK_MAX_AGE_S)
    except SignatureExpired:
        raise LinkExpired from None
    except BadSignature:
        raise LinkInvalid from None
    image = PodImage.objects.filter(id=image_id).first()
    if image is None:
        raise NotFound("The image is gone.")
    return image


def pod_image_contents(pod: ProofOfDelivery) -> dict:
    """Each stored image's bytes by id; an image whose file is gone is left out."""
    contents = {}
    for image in pod.images.all():
        try:
            with image.file.open("rb") as handle:
                contents[image.id] = handle.read()
        except (FileNotFoundError, OSError):
            continue
    return contents
