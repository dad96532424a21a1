"""Pydantic models of the ``data`` payload of each seed webhook event (seeds/004).

``SEED_PAYLOADS`` maps ``(event type, version)`` to the model of that version's ``data``;
the golden tests in ``tests/webhooks/test_payload_shapes.py`` check every entry against the
fixture of the same name in ``tests/fixtures/seed-events/``.
"""

from pydantic import BaseModel

from .collis import (
    CollectionPointColloCollectedV1,
    CollectionPointColloNotCollectedV1,
    CollectionPointColloRejectedV1,
    ColloDeliveryArrivedV1,
    ColloDeliveryCompletedV1,
    ColloDeliveryFailedV1,
    ColloLoadedOnLinehaulV1,
    ColloPickupCompletedV1,
)
from .notifications import NotificationOrderSmsSentV1, NotificationOrderSmsSentV2
from .orders import (
    OrderAddedToRouteV2,
    OrderDeliveryArrivedV2,
    OrderDeliveryCompletedV1,
    OrderDeliveryFailedV1,
    OrderGeoLocationFailedV1,
    OrderPickupArrivedV2,
    OrderPickupCompletedV2,
    OrderPickupFailedV1,
    OrderReturnCompletedV1,
)
from .routes import (
    RouteCompletedV1,
    RouteOptimizationJobApprovedV1,
    RouteOptimizationOrderUnscheduledV1,
)

SEED_PAYLOADS: dict[tuple[str, str], type[BaseModel]] = {
    # Order* tracking events
    ("OrderAddedToRoute", "2.0"): OrderAddedToRouteV2,
    ("OrderPickupArrived", "2.0"): OrderPickupArrivedV2,
    ("OrderPickupCompleted", "2.0"): OrderPickupCompletedV2,
    ("OrderPickupFailed", "1.0"): OrderPickupFailedV1,
    ("OrderDeliveryArrived", "2.0"): OrderDeliveryArrivedV2,
    ("OrderDeliveryCompleted", "1.0"): OrderDeliveryCompletedV1,
    ("OrderDeliveryFailed", "1.0"): OrderDeliveryFailedV1,
    ("OrderReturnCompleted", "1.0"): OrderReturnCompletedV1,
    ("OrderGeoLocationFailed", "1.0"): OrderGeoLocationFailedV1,
    # Collo* and CollectionPoint*
    ("ColloPickupCompleted", "1.0"): ColloPickupCompletedV1,
    ("ColloDeliveryArrived", "1.0"): ColloDeliveryArrivedV1,
    ("ColloDeliveryCompleted", "1.0"): ColloDeliveryCompletedV1,
    ("ColloDeliveryFailed", "1.0"): ColloDeliveryFailedV1,
    ("ColloLoadedOnLinehaul", "1.0"): ColloLoadedOnLinehaulV1,
    ("CollectionPointColloCollected", "1.0"): CollectionPointColloCollectedV1,
    ("CollectionPointColloNotCollected", "1.0"): CollectionPointColloNotCollectedV1,
    ("CollectionPointColloRejected", "1.0"): CollectionPointColloRejectedV1,
    # Routes
    ("RouteCompleted", "1.0"): RouteCompletedV1,
    ("RouteOptimizationJobApproved", "1.0"): RouteOptimizationJobApprovedV1,
    ("RouteOptimizationOrderUnscheduled", "1.0"): RouteOptimizationOrderUnscheduledV1,
    # Notifications
    ("NotificationOrderSmsSent", "1.0"): NotificationOrderSmsSentV1,
    ("NotificationOrderSmsSent", "2.0"): NotificationOrderSmsSentV2,
}

__all__ = ["SEED_PAYLOADS"]
