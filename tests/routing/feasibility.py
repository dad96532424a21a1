"""An independent feasibility check of a routing ``Solution`` against its ``Problem``.

Deliberately shares nothing with ``routing.solver``: every figure is recomputed here from the
problem's plain data and its travel matrices, so a solver bug cannot hide behind the same
arithmetic. ``check_solution`` returns human-readable violations; an empty list is feasible.
"""

from __future__ import annotations

from collections import Counter

from routing.problem import Fleet, GateSlot, PlannedRoute, Problem, Solution, Visit

TOLERANCE_S = 1  # schedule times may differ from the recomputed ones by rounding, no more


def check_solution(problem: Problem, solution: Solution) -> list[str]:
    violations: list[str] = []
    visits = {v.key: (i, v) for i, v in enumerate(problem.visits)}
    fleets = {f.key: f for f in problem.fleets}
    depots = {d.key: i for i, d in enumerate(problem.depots)}

    violations += _check_coverage(problem, solution, visits)

    for number, route in enumerate(solution.routes):
        label = f"route {number} ({route.fleet}@{route.gate} {_clock(route.slot_start_s)})"
        fleet = fleets.get(route.fleet)
        if fleet is None:
            violations.append(f"{label}: unknown fleet {route.fleet!r}")
            continue
        if fleet.depot not in depots:
            violations.append(f"{label}: fleet's depot {fleet.depot!r} does not exist")
            continue
        stops = [s for s in route.stops if s.visit in visits]
        if len(stops) != len(route.stops):
            continue  # reported by the coverage check; nothing sensible to time
        route_visits = [visits[s.visit] for s in stops]
        violations += [f"{label}: {m}" for m in _check_load(fleet, route, route_visits)]
        violations += [f"{label}: {m}" for m in _check_tags(fleet, route_visits)]
        violations += [
            f"{label}: {m}"
            for m in _check_schedule(problem, fleet, depots[fleet.depot], route, route_visits)
        ]
        violations += [f"{label}: {m}" for m in _check_slot(problem, fleet, route)]

    violations += _check_counts(problem, solution)
    return violations


def _clock(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _check_coverage(
    problem: Problem, solution: Solution, visits: dict[str, tuple[int, Visit]]
) -> list[str]:
    violations = []
    keys = [v.key for v in problem.visits]
    for key, count in Counter(keys).items():
        if count > 1:
            violations.append(f"problem: visit key {key!r} occurs {count} times")
    scheduled = Counter(s.visit for r in solution.routes for s in r.stops)
    for key, count in scheduled.items():
        if key not in visits:
            violations.append(f"visit {key!r} is on a route but not in the problem")
        elif count > 1:
            violations.append(f"visit {key!r} is scheduled {count} times (more than once)")
    for key, reasons in solution.unscheduled.items():
        if key not in visits:
            violations.append(f"visit {key!r} is unscheduled but not in the problem")
        if key in scheduled:
            violations.append(f"visit {key!r} is both scheduled and unscheduled")
        if not reasons:
            violations.append(f"visit {key!r} is unscheduled without a reason")
    for key in keys:
        if key not in scheduled and key not in solution.unscheduled:
            violations.append(f"visit {key!r} is neither scheduled nor unscheduled")
    return violations


def _check_load(
    fleet: Fleet, route: PlannedRoute, route_visits: list[tuple[int, Visit]]
) -> list[str]:
    violations = []
    figures = [
        ("weight_g", sum(v.weight_g for _, v in route_visits), fleet.max_weight_g, "max_weight_g"),
        ("volume_l", sum(v.volume_l for _, v in route_visits), fleet.max_volume_l, "max_volume_l"),
        ("colli", sum(v.colli for _, v in route_visits), fleet.max_colli, "max_colli"),
        ("stops", len(route_visits), fleet.max_stops, "max_stops"),
    ]
    for name, total, limit, limit_name in figures:
        if limit is not None and total > limit:
            violations.append(f"load {name} {total} > {limit_name} {limit} (overloaded)")
        reported = len(route.stops) if name == "stops" else getattr(route, name)
        if reported != total:
            violations.append(f"reported {name} {reported} != sum of its stops {total}")
    return violations


def _check_tags(fleet: Fleet, route_visits: list[tuple[int, Visit]]) -> list[str]:
    return [
        f"visit {v.key!r} tags {sorted(v.tags - fleet.tags)} not handled by fleet {fleet.key!r}"
        for _, v in route_visits
        if not v.tags <= fleet.tags
    ]


def _check_schedule(
    problem: Problem,
    fleet: Fleet,
    depot: int,
    route: PlannedRoute,
    route_visits: list[tuple[int, Visit]],
) -> list[str]:
    violations = []
    matrix = problem.matrices.get(fleet.vehicle_type)
    if matrix is None:
        return [f"no travel matrix for vehicle type {fleet.vehicle_type!r}"]
    size = len(problem.depots) + len(problem.visits)
    if matrix.duration_s.shape != (size, size) or matrix.distance_m.shape != (size, size):
        return [f"matrix for {fleet.vehicle_type!r} is not {size}×{size}"]

    here = depot
    clock = route.start_s
    distance = driving = task = waiting = longest_wait = 0
    for position, (stop, (index, visit)) in enumerate(
        zip(route.stops, route_visits, strict=True), start=1
    ):
        where = f"stop {position} {visit.key!r}"
        there = len(problem.depots) + index
        travel = int(matrix.duration_s[here, there])
        distance += int(matrix.distance_m[here, there])
        driving += travel
        arrival = clock + travel
        early, late = visit.window if visit.window is not None else (None, None)
        start = arrival if early is None else max(arrival, early)
        waiting += start - arrival
        longest_wait = max(longest_wait, start - arrival)
        if stop.sequence != position:
            violations.append(f"{where}: sequence {stop.sequence} != {position}")
        if abs(stop.arrival_s - arrival) > TOLERANCE_S:
            violations.append(
                f"{where}: arrival {_clock(stop.arrival_s)} != computed {_clock(arrival)}"
            )
        if abs(stop.start_s - start) > TOLERANCE_S:
            violations.append(
                f"{where}: service start {_clock(stop.start_s)} != computed {_clock(start)}"
            )
        if late is not None and start > late:
            violations.append(
                f"{where}: service starts {_clock(start)} after its window closes {_clock(late)}"
            )
        if late is not None and stop.start_s > late:
            violations.append(
                f"{where}: reported start {_clock(stop.start_s)} after its window closes "
                f"{_clock(late)}"
            )
        if early is not None and stop.start_s < early:
            violations.append(
                f"{where}: reported start {_clock(stop.start_s)} before its window opens "
                f"{_clock(early)}"
            )
        end = start + visit.service_s
        task += visit.service_s
        if abs(stop.end_s - end) > TOLERANCE_S:
            violations.append(f"{where}: end {_clock(stop.end_s)} != computed {_clock(end)}")
        clock, here = end, there
    travel = int(matrix.duration_s[here, depot])
    distance += int(matrix.distance_m[here, depot])
    driving += travel
    back = clock + travel

    with_break = back + fleet.break_duration_s
    if route.end_s < back - TOLERANCE_S:
        violations.append(f"end {_clock(route.end_s)} before the return {_clock(back)}")
    elif abs(route.end_s - back) > TOLERANCE_S and abs(route.end_s - with_break) > TOLERANCE_S:
        violations.append(
            f"end {_clock(route.end_s)} is neither the return {_clock(back)} nor the return "
            f"plus a break {_clock(with_break)}"
        )
    break_at_end = fleet.break_duration_s > 0 and abs(route.end_s - with_break) <= TOLERANCE_S
    if break_at_end and route.break_s != fleet.break_duration_s:
        violations.append(f"end includes a break but break_s is {route.break_s}")
    if route.break_s not in (0, fleet.break_duration_s):
        violations.append(f"break_s {route.break_s} is neither 0 nor {fleet.break_duration_s}")

    shift_start, shift_end = fleet.shift
    if route.start_s < shift_start:
        violations.append(
            f"start {_clock(route.start_s)} before the shift starts {_clock(shift_start)}"
        )
    if route.end_s > shift_end:
        violations.append(f"end {_clock(route.end_s)} after the shift ends {_clock(shift_end)}")
    duration = route.end_s - route.start_s
    longest = fleet.shift_length
    if fleet.max_duration_s is not None:
        longest = min(longest, fleet.max_duration_s)
    if duration > longest:
        violations.append(f"duration {duration} s > longest allowed {longest} s")
    needs_break = fleet.break_after_s is not None and duration > fleet.break_after_s
    if needs_break and route.break_s != fleet.break_duration_s:
        violations.append(
            f"duration {duration} s > break_after_s {fleet.break_after_s} but break_s is "
            f"{route.break_s}, not {fleet.break_duration_s}"
        )

    if route.distance_m != distance:
        violations.append(f"distance {route.distance_m} m != computed {distance} m")
    if fleet.max_distance_m is not None and distance > fleet.max_distance_m:
        violations.append(f"distance {distance} m > max_distance_m {fleet.max_distance_m}")
    if route.driving_s != driving:
        violations.append(f"driving_s {route.driving_s} != computed {driving}")
    if route.task_s != task:
        violations.append(f"task_s {route.task_s} != computed {task}")
    # A break not appended at the end is taken in one piece during a long enough wait, and
    # comes out of the waiting time.
    break_in_wait = route.break_s if route.break_s and not break_at_end else 0
    if break_in_wait and longest_wait < break_in_wait:
        violations.append(
            f"break of {break_in_wait} s neither appended nor taken in one wait "
            f"(longest wait {longest_wait} s)"
        )
    if abs(route.waiting_s - (waiting - break_in_wait)) > TOLERANCE_S:
        violations.append(f"waiting_s {route.waiting_s} != computed {waiting - break_in_wait}")
    return violations


def _find_slot(problem: Problem, fleet: Fleet, route: PlannedRoute) -> GateSlot | None:
    """The route's slot: its gate and start, preferring one that also matches end and depot."""
    slots = [s for s in problem.slots if s.gate == route.gate and s.start_s == route.slot_start_s]
    exact = [s for s in slots if s.end_s == route.slot_end_s and s.depot == fleet.depot]
    return (exact or slots or [None])[0]


def _check_slot(problem: Problem, fleet: Fleet, route: PlannedRoute) -> list[str]:
    slot = _find_slot(problem, fleet, route)
    if slot is None:
        return [f"no slot at gate {route.gate!r} starting {_clock(route.slot_start_s)}"]
    violations = []
    if slot.end_s != route.slot_end_s:
        violations.append(
            f"slot ends {_clock(slot.end_s)}, the route says {_clock(route.slot_end_s)}"
        )
    if slot.depot != fleet.depot:
        violations.append(f"slot's depot {slot.depot!r} is not the fleet's {fleet.depot!r}")
    if not slot.start_s <= route.start_s <= slot.end_s:
        violations.append(
            f"start {_clock(route.start_s)} outside its slot "
            f"{_clock(slot.start_s)}–{_clock(slot.end_s)}"
        )
    return violations


def _check_counts(problem: Problem, solution: Solution) -> list[str]:
    violations = []
    per_slot = Counter((r.gate, r.slot_start_s) for r in solution.routes)
    departures: Counter[tuple[str, int]] = Counter()
    for slot in problem.slots:
        departures[(slot.gate, slot.start_s)] += slot.departures
    for (gate, start), count in sorted(per_slot.items()):
        if count > departures[(gate, start)]:
            violations.append(
                f"slot {gate}@{_clock(start)}: {count} routes > {departures[(gate, start)]} "
                "departures"
            )
    per_fleet = Counter(r.fleet for r in solution.routes)
    for fleet in problem.fleets:
        if per_fleet[fleet.key] > fleet.vehicles:
            violations.append(
                f"fleet {fleet.key!r}: {per_fleet[fleet.key]} routes > {fleet.vehicles} vehicles"
            )
    return violations
