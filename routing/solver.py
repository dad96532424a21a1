"""Solving a ``Problem`` with PyVRP, and telling why each order left out was left out.

The translation, in PyVRP's own terms:

- load dimensions: weight (g), volume (l), colli and stops (1 per visit), so a group's
  stop limit is a capacity like the others;
- a vehicle type per (vehicle group, gate slot) with vehicles allocated to it: the slot
  bounds the start (``tw_early``/``start_late``), the shift its end (``tw_late``), the
  group's maximum duration (less a reserved break) ``shift_duration``, plus ``max_distance``,
  per-metre, per-second and per-vehicle costs;
- a routing profile per (vehicle type, tags handled): edges into a visit whose tags the group
  lacks are missing (PyVRP's ``MAX_VALUE``), so no route of that group ever reaches it;
- visits are optional with a prize far above any detour (prize collecting): an order that fits
  nowhere is left out instead of failing the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyvrp
from pyvrp.constants import MAX_VALUE

from routing.matrix import TravelMatrix
from routing.problem import Fleet, GateSlot, PlannedRoute, PlannedStop, Problem, Solution, Visit
from routing.reasons import (  # why an order is left out, checked in this order
    CAPACITY_EXCEEDED,
    INSUFFICIENT_CAPACITY,
    MAX_ORDER_COUNT_EXCEEDED,
    NO_ROUTES_CAN_HANDLE_TAG,
    TIME_WINDOW_INFEASIBLE,
)

UNLIMITED = 10**12
DAY_END = 7 * 86_400


@dataclass(frozen=True)
class _VehicleSlot:
    fleet: Fleet
    slot: GateSlot
    count: int


def allocate_departures(problem: Problem) -> list[_VehicleSlot]:
    """Share each group's vehicles and each slot's departures out, slot by slot.

    PyVRP counts vehicles per vehicle type; a type per (group, slot) with a fixed share keeps
    both a group's vehicle count and a slot's departures from being exceeded.
    """
    left = {f.key: f.vehicles for f in problem.fleets}
    shares: dict[tuple[str, int], int] = {}
    for index, slot in sorted(enumerate(problem.slots), key=lambda s: (s[1].start_s, s[0])):
        fleets = [
            f
            for f in problem.fleets
            if f.depot == slot.depot and _usable(f, slot) and left[f.key] > 0
        ]
        departures = slot.departures
        while departures > 0 and any(left[f.key] > 0 for f in fleets):
            for fleet in fleets:
                if departures and left[fleet.key] > 0:
                    shares[(fleet.key, index)] = shares.get((fleet.key, index), 0) + 1
                    left[fleet.key] -= 1
                    departures -= 1
    by_key = {f.key: f for f in problem.fleets}
    return [
        _VehicleSlot(by_key[fleet_key], problem.slots[index], count)
        for (fleet_key, index), count in sorted(shares.items(), key=lambda s: s[0][1])
    ]


def _usable(fleet: Fleet, slot: GateSlot) -> bool:
    # A vehicle must leave before the break kept free at the shift's end, or it can do nothing.
    latest = min(slot.end_s, fleet.shift[1] - fleet.reserved_break_s)
    return max(slot.start_s, fleet.shift[0]) <= latest


def _limit(value: int | None) -> int:
    return UNLIMITED if value is None else value


def _window(visit: Visit) -> tuple[int, int]:
    return visit.window if visit.window is not None else (0, DAY_END)


def build(problem: Problem, vehicle_slots: list[_VehicleSlot]) -> pyvrp.ProblemData:
    """The PyVRP instance of ``problem``."""
    locations = [pyvrp.Location(x=d.position[1], y=d.position[0]) for d in problem.depots]
    locations += [pyvrp.Location(x=v.position[1], y=v.position[0]) for v in problem.visits]
    depots = [pyvrp.Depot(location=i) for i in range(len(problem.depots))]
    prize = 0 if problem.visits_required else _prize(problem)
    clients = [
        pyvrp.Client(
            location=problem.location(i),
            delivery=[v.weight_g, v.volume_l, v.colli, 1],
            service_duration=v.service_s,
            tw_early=_window(v)[0],
            tw_late=_window(v)[1],
            prize=prize,
            required=problem.visits_required,
        )
        for i, v in enumerate(problem.visits)
    ]
    profiles: dict[tuple[str, frozenset[str]], int] = {}
    distances: list[np.ndarray] = []
    durations: list[np.ndarray] = []
    vehicle_types = []
    for vehicle in vehicle_slots:
        key = (vehicle.fleet.vehicle_type, vehicle.fleet.tags)
        if key not in profiles:
            profiles[key] = len(distances)
            distance, duration = _profile_matrices(problem, vehicle.fleet)
            distances.append(distance)
            durations.append(duration)
        vehicle_types.append(_vehicle_type(problem, vehicle, profile=profiles[key]))
    return pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=distances,
        duration_matrices=durations,
    )


def _vehicle_type(problem: Problem, vehicle: _VehicleSlot, *, profile: int) -> pyvrp.VehicleType:
    """The vehicles of one fleet leaving through one gate slot, on the travel ``profile`` of
    their vehicle type and tags."""
    fleet, slot = vehicle.fleet, vehicle.slot
    depot = problem.depot_index(fleet.depot)
    reserved = fleet.reserved_break_s
    return pyvrp.VehicleType(
        num_available=vehicle.count,
        capacity=[
            _limit(fleet.max_weight_g),
            _limit(fleet.max_volume_l),
            _limit(fleet.max_colli),
            _limit(fleet.max_stops),
        ],
        start_depot=depot,
        end_depot=depot,
        fixed_cost=fleet.cost_per_vehicle,
        tw_early=max(slot.start_s, fleet.shift[0]),
        start_late=min(slot.end_s, fleet.shift[1] - reserved),
        tw_late=fleet.shift[1] - reserved,
        shift_duration=fleet.longest_route_s - reserved,
        max_distance=_limit(fleet.max_distance_m),
        unit_distance_cost=fleet.cost_per_m,
        unit_duration_cost=fleet.cost_per_s,
        profile=profile,
        name=f"{fleet.key}@{slot.gate}",
    )


def _prize(problem: Problem) -> int:
    """Worth more than serving any visit on a vehicle of its own costs, so every visit that
    fits is made, yet not so much that the solver would rather break a limit than skip one."""
    costliest = 0
    for fleet in problem.fleets:
        matrix = problem.matrices[fleet.vehicle_type]
        depot = problem.depot_index(fleet.depot)
        visits = [problem.location(i) for i in range(len(problem.visits))]
        trip_m = int((matrix.distance_m[depot, visits] + matrix.distance_m[visits, depot]).max())
        trip_s = int((matrix.duration_s[depot, visits] + matrix.duration_s[visits, depot]).max())
        service = max(v.service_s for v in problem.visits)
        cost = (
            fleet.cost_per_vehicle
            + fleet.cost_per_m * trip_m
            + fleet.cost_per_s * (trip_s + service)
        )
        costliest = max(costliest, cost)
    return 2 * costliest + 1


def _profile_matrices(problem: Problem, fleet: Fleet) -> tuple[np.ndarray, np.ndarray]:
    matrix = problem.matrices[fleet.vehicle_type]
    distance = np.array(matrix.distance_m, dtype=np.int64, copy=True)
    duration = np.array(matrix.duration_s, dtype=np.int64, copy=True)
    barred = [problem.location(i) for i, v in enumerate(problem.visits) if not fleet.handles(v)]
    if barred:
        distance[:, barred] = MAX_VALUE
        duration[:, barred] = MAX_VALUE
        distance[barred, barred] = 0
        duration[barred, barred] = 0
    return distance, duration


class _Stop:
    """PyVRP's stopping criterion: the time budget, an iteration cap, progress and cancel.

    The budget is counted from ``started``, the call to ``solve``, so that it covers building
    the model too, and the search stops when one more iteration as long as the longest so far
    would end past it: ``solve`` returns within its budget, not an iteration after it. (Most
    iterations are short, but one that finds a new best also searches it exhaustively.)
    """

    def __init__(
        self,
        budget_s: float,
        max_iterations: int | None,
        on_progress: Callable[[float], bool] | None,
        started: float | None = None,
    ) -> None:
        self.budget_s = budget_s
        self.max_iterations = max_iterations
        self.on_progress = on_progress
        self.started = self.last_report = time.perf_counter() if started is None else started
        self.last_call: float | None = None
        self.longest_s = 0.0
        self.iterations = 0
        self.reason = ""

    def __call__(self, best_cost: float) -> bool:
        self.iterations += 1
        now = time.perf_counter()
        elapsed = now - self.started
        # Called once before the first iteration and once after each.
        if self.last_call is not None:
            self.longest_s = max(self.longest_s, now - self.last_call)
        self.last_call = now
        if self.max_iterations is not None and self.iterations > self.max_iterations:
            self.reason = "iterations"
            return True
        if elapsed + self.longest_s >= self.budget_s:
            self.reason = "budget"
            return True
        if self.on_progress is not None and now - self.last_report >= 1.0:
            self.last_report = now
            done = elapsed / self.budget_s
            if self.max_iterations:
                done = max(done, self.iterations / self.max_iterations)
            if self.on_progress(min(done, 0.99)):
                self.reason = "cancelled"
                return True
        return False


def solve(
    problem: Problem,
    *,
    time_budget_s: float,
    seed: int = 1,
    max_iterations: int | None = None,
    on_progress: Callable[[float], bool] | None = None,
) -> Solution:
    """Plan ``problem``. ``on_progress(fraction)`` is called about once a second while
    solving and stops the solver when it returns True (the job was cancelled).

    With ``max_iterations`` the plan depends only on the problem and the seed; a time budget
    that ends the search first depends on the machine's speed as well.
    """
    started = time.perf_counter()
    vehicle_slots = allocate_departures(problem)
    # What no vehicle could serve even alone never enters the model: its reason is final.
    unscheduled: dict[str, list[str]] = {}
    servable = []
    for index, visit in enumerate(problem.visits):
        reason = _reason_alone(problem, index, visit, vehicle_slots)
        if reason:
            unscheduled[visit.key] = [reason]
        else:
            servable.append(index)
    if not servable:
        return Solution(routes=[], unscheduled=unscheduled, stopped_by="nothing to plan")
    model_problem = _restricted(problem, servable)
    data = build(model_problem, vehicle_slots)
    stop = _Stop(time_budget_s, max_iterations, on_progress, started)
    result = pyvrp.solve(
        data, stop, seed=seed, collect_stats=False, display=False, params=_params(problem)
    )
    best = result.best
    if not best.is_feasible():
        raise Unsolvable("The solver found no feasible plan for the orders it had to serve.")
    routes = [_planned_route(model_problem, vehicle_slots, route) for route in best.routes()]
    visited = {stop.visit for route in routes for stop in route.stops}
    used: dict[str, list[PlannedRoute]] = {}
    for route in routes:
        used.setdefault(route.fleet, []).append(route)
    for visit in model_problem.visits:
        if visit.key not in visited:
            unscheduled[visit.key] = [_reason_left_out(problem, visit, vehicle_slots, used)]
    return Solution(
        routes=routes,
        unscheduled=unscheduled,
        cost=int(best.distance_cost() + best.duration_cost() + best.fixed_vehicle_cost()),
        runtime_s=round(time.perf_counter() - started, 3),
        iterations=stop.iterations,
        stopped_by=stop.reason or "search",
    )


class Unsolvable(Exception):
    pass


def _params(problem: Problem) -> pyvrp.SolveParams:
    if problem.visits_required:
        return pyvrp.SolveParams()
    # Skipping a visit forgoes its prize; breaking a limit must always cost more than that,
    # so penalties may grow past PyVRP's default cap.
    return pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=1e9))


def _restricted(problem: Problem, indices: list[int]) -> Problem:
    """The problem with only the visits at ``indices``, matrices cut to match."""
    keep = list(range(len(problem.depots))) + [problem.location(i) for i in indices]
    return Problem(
        depots=problem.depots,
        visits=[problem.visits[i] for i in indices],
        fleets=problem.fleets,
        slots=problem.slots,
        matrices={
            kind: TravelMatrix(
                distance_m=m.distance_m[np.ix_(keep, keep)],
                duration_s=m.duration_s[np.ix_(keep, keep)],
            )
            for kind, m in problem.matrices.items()
        },
        visits_required=problem.visits_required,
    )


def _planned_route(
    problem: Problem, vehicle_slots: list[_VehicleSlot], route: pyvrp.Route
) -> PlannedRoute:
    vehicle = vehicle_slots[route.vehicle_type()]
    stops = []
    longest_wait = 0
    for activity in route.schedule():
        if activity.type != pyvrp.ActivityType.CLIENT:
            continue
        visit = problem.visits[activity.idx]
        longest_wait = max(longest_wait, activity.wait_duration)
        stops.append(
            PlannedStop(
                visit=visit.key,
                sequence=len(stops) + 1,
                arrival_s=activity.start_time - activity.wait_duration,
                start_s=activity.start_time,
                end_s=activity.end_time,
            )
        )
    start, end = route.start_time(), route.end_time()
    waiting = route.wait_duration()
    fleet = vehicle.fleet
    break_s = 0
    if fleet.break_after_s is not None and end - start > fleet.break_after_s:
        # Taken while waiting when a wait is long enough, else before the return: the time
        # was kept free in the shift for it.
        break_s = fleet.break_duration_s
        if longest_wait >= break_s:
            waiting -= break_s
        else:
            end += break_s
    load = route.delivery()
    return PlannedRoute(
        fleet=fleet.key,
        gate=vehicle.slot.gate,
        slot_start_s=vehicle.slot.start_s,
        slot_end_s=vehicle.slot.end_s,
        start_s=start,
        end_s=end,
        stops=stops,
        distance_m=route.distance(),
        driving_s=route.travel_duration(),
        waiting_s=waiting,
        task_s=route.service_duration(),
        break_s=break_s,
        weight_g=load[0],
        volume_l=load[1],
        colli=load[2],
    )


def _reason_alone(problem: Problem, index: int, visit: Visit, vehicle_slots) -> str | None:
    """Why no vehicle could serve this visit even on a route of its own, if none could."""
    fleets = [f for f in problem.fleets if f.handles(visit)]
    if not fleets:
        return NO_ROUTES_CAN_HANDLE_TAG
    fleets = [f for f in fleets if _fits_alone(f, visit)]
    if not fleets:
        return CAPACITY_EXCEEDED
    if not any(v.fleet in fleets and _reachable(problem, index, visit, v) for v in vehicle_slots):
        return TIME_WINDOW_INFEASIBLE
    return None


def _reason_left_out(problem: Problem, visit: Visit, vehicle_slots, used) -> str:
    """A visit that fit some vehicle alone was left out: stop limits, or capacity ran out."""
    fleets = {f.key: f for f in problem.fleets if f.handles(visit) and _fits_alone(f, visit)}
    if all(_stops_used_up(fleet, vehicle_slots, used) for fleet in fleets.values()):
        return MAX_ORDER_COUNT_EXCEEDED
    return INSUFFICIENT_CAPACITY


def _fits_alone(fleet: Fleet, visit: Visit) -> bool:
    return (
        visit.weight_g <= _limit(fleet.max_weight_g)
        and visit.volume_l <= _limit(fleet.max_volume_l)
        and visit.colli <= _limit(fleet.max_colli)
        and _limit(fleet.max_stops) >= 1
    )


def _reachable(problem: Problem, index: int, visit: Visit, vehicle: _VehicleSlot) -> bool:
    """Can a vehicle of this slot serve the visit alone, inside its window and its shift?"""
    fleet, slot = vehicle.fleet, vehicle.slot
    matrix = problem.matrices[fleet.vehicle_type]
    depot, here = problem.depot_index(fleet.depot), problem.location(index)
    out, back = int(matrix.duration_s[depot, here]), int(matrix.duration_s[here, depot])
    distance = int(matrix.distance_m[depot, here]) + int(matrix.distance_m[here, depot])
    early, late = _window(visit)
    leave_earliest = max(slot.start_s, fleet.shift[0])
    leave_latest = min(slot.end_s, fleet.shift[1])
    if leave_earliest + out > late:
        return False
    # Leave as late as the slot allows without arriving after the window opens: least waiting.
    leave = min(leave_latest, max(leave_earliest, early - out))
    start = max(leave + out, early)
    end = start + visit.service_s + back
    reserved = fleet.reserved_break_s
    longest = fleet.longest_route_s - reserved
    return (
        end <= fleet.shift[1] - reserved
        and end - leave <= longest
        and distance <= _limit(fleet.max_distance_m)
    )


def _stops_used_up(fleet: Fleet, vehicle_slots, used) -> bool:
    if fleet.max_stops is None:
        return False
    available = sum(v.count for v in vehicle_slots if v.fleet.key == fleet.key)
    routes = used.get(fleet.key, [])
    return len(routes) >= available and all(len(r.stops) >= fleet.max_stops for r in routes)
