"""A routing problem and its solution as Waybill's planner sees them: plain data, no ORM.

Times are whole seconds from midnight of the job's day in the depot's zone; distances whole
metres; weights grams, volumes litres. The job (``routing.services``) and the benchmark
(``bench/planning.py``) both build a ``Problem`` and hand it to ``routing.solver.solve``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.matrix import TravelMatrix


@dataclass(frozen=True)
class DepotSpec:
    key: str
    position: tuple[float, float]


@dataclass(frozen=True)
class Visit:
    """An order's stop: its place, what it loads on the vehicle, and when it may be served."""

    key: str
    position: tuple[float, float]
    weight_g: int = 0
    volume_l: int = 0
    colli: int = 0
    service_s: int = 0
    window: tuple[int, int] | None = None
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Fleet:
    """A vehicle group: alike vehicles with their limits, costs, shift and break rule."""

    key: str
    name: str
    depot: str
    vehicle_type: str
    vehicles: int
    tags: frozenset[str] = frozenset()
    max_weight_g: int | None = None
    max_volume_l: int | None = None
    max_colli: int | None = None
    max_stops: int | None = None
    max_duration_s: int | None = None
    max_distance_m: int | None = None
    # Costs in ten-thousandths of the currency unit, per metre, per second and per vehicle.
    cost_per_m: int = 1
    cost_per_s: int = 0
    cost_per_vehicle: int = 0
    shift: tuple[int, int] = (0, 86_400)
    break_after_s: int | None = None
    break_duration_s: int = 0

    def handles(self, visit: Visit) -> bool:
        return visit.tags <= self.tags

    @property
    def reserved_break_s(self) -> int:
        """Break time kept free in every shift long enough to need one."""
        longest = self.longest_route_s
        if self.break_after_s is not None and longest > self.break_after_s:
            return self.break_duration_s
        return 0

    @property
    def shift_length(self) -> int:
        return self.shift[1] - self.shift[0]

    @property
    def longest_route_s(self) -> int:
        """The longest a route may last: its maximum duration, within the shift."""
        if self.max_duration_s is None:
            return self.shift_length
        return min(self.max_duration_s, self.shift_length)


@dataclass(frozen=True)
class GateSlot:
    """A gate's departure slot: routes may leave between ``start_s`` and ``end_s``."""

    gate: str
    depot: str
    start_s: int
    end_s: int
    departures: int


@dataclass
class Problem:
    depots: list[DepotSpec]
    visits: list[Visit]
    fleets: list[Fleet]
    slots: list[GateSlot]
    # One matrix per vehicle type over the locations: depots first, then visits, in order.
    matrices: dict[str, TravelMatrix]
    # Visits are optional (prize collecting) unless this is set, as the benchmark's are.
    visits_required: bool = False
    # Orders whose data cannot be made into a visit, with why: they never reach the solver.
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def points(self) -> list[tuple[float, float]]:
        """The locations the matrices are over: depots first, then visits."""
        return [d.position for d in self.depots] + [v.position for v in self.visits]

    def location(self, visit_index: int) -> int:
        return len(self.depots) + visit_index

    def depot_index(self, key: str) -> int:
        return next(i for i, d in enumerate(self.depots) if d.key == key)


@dataclass
class PlannedStop:
    visit: str
    sequence: int
    arrival_s: int
    start_s: int  # service starts (the ETA)
    end_s: int


@dataclass
class PlannedRoute:
    fleet: str
    gate: str
    slot_start_s: int
    slot_end_s: int
    start_s: int
    end_s: int
    stops: list[PlannedStop]
    distance_m: int
    driving_s: int
    waiting_s: int
    task_s: int
    break_s: int
    weight_g: int
    volume_l: int
    colli: int

    @property
    def duration_s(self) -> int:
        return self.end_s - self.start_s


@dataclass
class Solution:
    routes: list[PlannedRoute]
    unscheduled: dict[str, list[str]] = field(default_factory=dict)  # visit: reasons
    cost: int = 0
    runtime_s: float = 0.0
    iterations: int = 0
    stopped_by: str = ""  # budget, cancelled or no-improvement
