"""Why route optimisation left an order out: the ``reasons`` of
``RouteOptimizationOrderUnscheduled``, a contract subscribers branch on.

The seed (004) shows two of them (``max-order-count-exceeded``, ``no-routes-can-handle-tag``);
the others are Waybill's, in the same style. The event's JSON Schema publishes this list as
the enum of ``reasons``, so a code added here is a code added to the contract. Carrier
selection has a vocabulary of its own (``carriers.selection``) and an event of its own
(``OrderPlanningFailed``).
"""

from typing import Literal

# Checked in this order against the data (routing.solver), then the job's own data check.
NO_ROUTES_CAN_HANDLE_TAG = "no-routes-can-handle-tag"
CAPACITY_EXCEEDED = "capacity-exceeded"
TIME_WINDOW_INFEASIBLE = "time-window-infeasible"
MAX_ORDER_COUNT_EXCEEDED = "max-order-count-exceeded"
INSUFFICIENT_CAPACITY = "insufficient-capacity"
# An order whose data cannot be routed (the job says which data).
INVALID_ORDER_DATA = "invalid-order-data"

UNSCHEDULED_REASONS = (
    NO_ROUTES_CAN_HANDLE_TAG,
    CAPACITY_EXCEEDED,
    TIME_WINDOW_INFEASIBLE,
    MAX_ORDER_COUNT_EXCEEDED,
    INSUFFICIENT_CAPACITY,
    INVALID_ORDER_DATA,
)
UnscheduledReason = Literal[UNSCHEDULED_REASONS]  # type: ignore[valid-type]
