"""``data`` payloads of the route events: RouteCompleted and RouteOptimization* (seeds/004).

Units, from the seed's notes on RouteOptimizationJobApproved: durations and times in seconds,
distances in kilometres (``meta``, ``routes``), weights in kilograms, volumes in cubic metres.
"""

from routing.reasons import UnscheduledReason

from .common import OrderRef, PayloadModel, RouteRef, TimeFrame


class RouteRunFigures(PayloadModel):
    """Duration (s), distance (km) and start/end time of a route, estimated or actual."""

    duration: float
    distance: float
    startTime: str
    endTime: str


class RouteCompletedV1(PayloadModel):
    """Sent when a route is completed, with its orders and estimated versus actual figures."""

    route: RouteRef
    orders: list[OrderRef]
    estimate: RouteRunFigures
    actual: RouteRunFigures
    correlationId: str
    timeOfEvent: str


class VehicleGroupLimits(PayloadModel):
    """Capacity limits of one vehicle in a vehicle group."""

    volume: float
    weight: float
    colli: int
    stops: int
    duration: int
    distance: int


class VehicleGroup(PayloadModel):
    """A vehicle group the optimization job could use."""

    id: str
    name: str
    vehicleType: str
    tags: list[str]
    limits: VehicleGroupLimits


class Gate(PayloadModel):
    """A loading gate and the time slots it was available in."""

    gateName: str
    timeSlots: list[TimeFrame]


class RoutePlanMeta(PayloadModel):
    """Totals over all routes of the approved plan."""

    routesCount: int
    shipmentsCount: int
    servicesCount: int
    duration: int
    distance: float
    drivingDuration: int
    waitingTime: int
    taskTime: int
    breakTime: int
    weight: float
    volume: float
    unscheduledTasks: int


class PlannedRoute(PayloadModel):
    """One route of the approved plan, with its vehicle, gate and figures."""

    route: RouteRef
    vehicleGroupId: str
    vehicleTypeId: str
    gate: str
    stopsCount: int
    startTime: str
    firstStopTaskTime: int
    duration: int
    distance: float
    drivingDuration: int
    waitingTime: int
    taskTime: int
    breakTime: int
    weight: float
    volume: float


class RouteOptimizationJobApprovedV1(PayloadModel):
    """Sent when a route optimization job is approved, with the resulting route plan."""

    id: str
    ownerId: str
    name: str
    settingsId: str
    schedulerId: str
    availableVehicleGroups: list[VehicleGroup]
    availableGates: list[Gate]
    meta: RoutePlanMeta
    routes: list[PlannedRoute]
    correlationId: str
    timeOfEvent: str


class RouteOptimizationOrderUnscheduledV1(PayloadModel):
    """Sent when route optimization could not schedule an order; ``reasons`` lists why, in
    route optimisation's own codes (``routing.reasons``). Carrier selection reports an order
    no service can take with OrderPlanningFailed instead."""

    order: OrderRef
    reasons: list[UnscheduledReason]
    correlationId: str
    timeOfEvent: str
