"""``data`` payloads of the Order* tracking events (seeds/004).

The seed gives an example per event but no prose on when each is sent; the docstrings below
state what the event name and payload say.
"""

from .common import (
    ContactV2,
    Deviation,
    DriverV2,
    Location,
    OrderRef,
    PayloadModel,
    Position,
    RouteRef,
    TimeFrame,
)


class OrderAddedToRouteV2(PayloadModel):
    """Sent when an order is added to a route, with its pickup and delivery ETAs."""

    order: OrderRef
    route: RouteRef
    deliveryLocation: Location
    pickupLocation: Location
    deliveryContact: ContactV2
    pickupContact: ContactV2
    pickupEta: str
    pickupTimeFrame: TimeFrame
    deliveryEta: str
    deliveryTimeFrame: TimeFrame
    correlationId: str
    timeOfEvent: str


class OrderPickupArrivedV2(PayloadModel):
    """Sent when the driver arrives at the order's pickup location."""

    order: OrderRef
    route: RouteRef
    deliveryLocation: Location
    pickupLocation: Location
    deliveryContact: ContactV2
    pickupContact: ContactV2
    driver: DriverV2
    deliveryEta: str
    deliveryTimeFrame: TimeFrame
    correlationId: str
    timeOfEvent: str


class OrderPickupCompletedV2(PayloadModel):
    """Sent when the driver has picked the order up."""

    order: OrderRef
    route: RouteRef
    deliveryLocation: Location
    pickupLocation: Location
    deliveryContact: ContactV2
    pickupContact: ContactV2
    driver: DriverV2
    deliveryEta: str
    deliveryTimeFrame: TimeFrame
    correlationId: str
    timeOfEvent: str


class OrderPickupFailedV1(PayloadModel):
    """Sent when the driver could not pick the order up; ``deviation`` says why."""

    order: OrderRef
    route: RouteRef
    deliveryLocation: Location
    pickupLocation: Location
    deliveryContact: ContactV2
    pickupContact: ContactV2
    driver: DriverV2
    deviation: Deviation
    deliveryEta: str
    deliveryTimeFrame: TimeFrame
    correlationId: str
    timeOfEvent: str


class OrderDeliveryArrivedV2(PayloadModel):
    """Sent when the driver arrives at the order's delivery location."""

    order: OrderRef
    route: RouteRef
    deliveryLocation: Location
    deliveryContact: ContactV2
    pickupContact: ContactV2
    driver: DriverV2
    correlationId: str
    timeOfEvent: str


class OrderDeliveryCompletedV1(PayloadModel):
    """Sent when the order has been delivered."""

    order: OrderRef
    route: RouteRef
    deliveryLocation: Location
    deliveryContact: ContactV2
    pickupContact: ContactV2
    driver: DriverV2
    correlationId: str
    timeOfEvent: str


class OrderDeliveryFailedV1(PayloadModel):
    """Sent when the driver could not deliver the order; ``deviation`` says why."""

    order: OrderRef
    route: RouteRef
    deliveryLocation: Location
    deliveryContact: ContactV2
    pickupContact: ContactV2
    driver: DriverV2
    deviation: Deviation
    correlationId: str
    timeOfEvent: str


class ReturnLocation(PayloadModel):
    """Where a returned order was delivered: a name and coordinates, no address."""

    name: str
    position: Position


class OrderReturnCompletedV1(PayloadModel):
    """Sent when an order has been returned (its return leg is completed)."""

    orderId: str
    orderTags: list[str]
    routeReference: str
    pickupContact: ContactV2
    deliveryContact: ContactV2
    deliveryLocation: ReturnLocation
    timeOfEvent: str


class OrderGeoLocationFailedV1(PayloadModel):
    """Sent when an order's address could not be geocoded (its position is then 0, 0)."""

    order: OrderRef
    location: Location
    correlationId: str
    timeOfEvent: str
