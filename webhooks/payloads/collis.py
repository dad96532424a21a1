"""``data`` payloads of the Collo* and CollectionPoint* events (seeds/004).

The Collo* events use the older key names (``colloId``, ``internalOrderId``, ``ownerId``,
``ownerOrderId``, ``orderTags``, ``colloTags``) and the v1 contact and driver shapes.
ColloLoadedOnLinehaul is sent with PascalCase keys, so it has its own nested models.
The seed gives an example per event but no prose on when each is sent; the docstrings below
state what the event name and payload say.
"""

from typing import Any

from .common import (
    CollectionPointLocation,
    ColloRef,
    ContactV1,
    Deviation,
    DriverV1,
    Location,
    OrderRef,
    PayloadModel,
    RouteRef,
    TimeFrame,
)


class ColloPickupCompletedV1(PayloadModel):
    """Sent when a collo has been picked up."""

    colloId: str
    barcode: str
    colloTags: list[str] | None
    internalOrderId: str
    ownerId: str
    ownerOrderId: str
    timeOfEvent: str
    orderTags: list[str]
    route: RouteRef
    driver: DriverV1
    pickupLocation: Location
    deliveryLocation: Location
    deliveryTimeFrame: TimeFrame
    deliveryEta: str
    pickupContact: ContactV1 | None
    deliveryContact: ContactV1


class ColloDeliveryArrivedV1(PayloadModel):
    """Sent when the driver arrives at a collo's delivery location."""

    colloId: str
    barcode: str
    colloTags: list[str] | None
    internalOrderId: str
    ownerId: str
    ownerOrderId: str
    timeOfEvent: str
    orderTags: list[str]
    route: RouteRef
    driver: DriverV1
    deliveryTimeFrame: TimeFrame
    deliveryLocation: Location
    pickupContact: ContactV1 | None
    deliveryContact: ContactV1


class ColloDeliveryCompletedV1(PayloadModel):
    """Sent when a collo has been delivered (route given as flat ``route*`` keys)."""

    colloId: str
    barcode: str
    colloTags: list[str] | None
    internalOrderId: str
    ownerId: str
    ownerOrderId: str
    timeOfEvent: str
    orderTags: list[str]
    routeReference: str
    routeId: str
    routeSlug: str
    routeTags: list[str]
    fulfillerId: str
    driver: DriverV1
    deliveryLocation: Location
    pickupContact: ContactV1 | None
    deliveryContact: ContactV1


class ColloDeliveryFailedV1(PayloadModel):
    """Sent when a collo could not be delivered; ``reasonId``/``reason`` say why."""

    colloId: str
    barcode: str
    colloTags: list[str] | None
    internalOrderId: str
    ownerId: str
    ownerOrderId: str
    timeOfEvent: str
    orderTags: list[str]
    route: RouteRef
    driver: DriverV1
    deliveryLocation: Location
    deliveryContact: ContactV1
    reasonId: str
    reason: str


# --- ColloLoadedOnLinehaul: PascalCase keys ------------------------------------------------------


class LinehaulAddress(PayloadModel):
    """Two-line address, PascalCase keys."""

    Primary: str
    Secondary: str | None


class LinehaulPosition(PayloadModel):
    """Coordinates, PascalCase keys."""

    Latitude: float
    Longitude: float


class LinehaulLocation(PayloadModel):
    """Location, PascalCase keys."""

    Address: LinehaulAddress
    Position: LinehaulPosition
    TimeZone: str


class LinehaulCollo(PayloadModel):
    """The collo loaded on the linehaul, with its order and where it was loaded."""

    Barcode: str
    OrderId: str
    OrderOwnerId: str
    Status: int
    Location: LinehaulLocation
    OrderTags: list[str]
    ActionBy: str
    # Only ever null in the seed, which never shows its shape when set: left open.
    Deviation: dict[str, Any] | None


class ColloLoadedOnLinehaulV1(PayloadModel):
    """Sent when a collo is loaded onto a linehaul (trunk) transport."""

    LinehaulId: str
    OwnerId: str
    Collo: LinehaulCollo
    TimeOfEvent: str


# --- CollectionPoint* ------------------------------------------------------------------------


class Signature(PayloadModel):
    """Signature captured when a collo is collected: image id, signer and when."""

    imageId: str
    name: str
    date: str


class CollectionPointColloCollectedV1(PayloadModel):
    """Sent when a collo is collected by the recipient at a collection point."""

    collectionPointId: str
    collo: ColloRef
    order: OrderRef
    location: CollectionPointLocation
    signature: Signature
    actionById: str
    colloValidationMethod: str
    timeOfEvent: str
    correlationId: str


class CollectionPointColloNotCollectedV1(PayloadModel):
    """Sent when a collo was not collected from a collection point; ``deviation`` says why."""

    collo: ColloRef
    collectionPointId: str
    order: OrderRef
    location: CollectionPointLocation
    deviation: Deviation
    actionById: str
    timeOfEvent: str
    correlationId: str


class CollectionPointColloRejectedV1(PayloadModel):
    """Sent when a collo is rejected at a collection point; ``deviation`` says why."""

    collo: ColloRef
    collectionPointId: str
    order: OrderRef
    location: CollectionPointLocation
    deviation: Deviation
    actionById: str
    timeOfEvent: str
    correlationId: str
