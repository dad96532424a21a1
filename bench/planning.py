"""Route planning benchmark: ``routing.solver.solve`` on Solomon instances and on a synthetic day.

Run from the project root, either::

    .venv/bin/python bench/planning.py --instances ../shared/bench-data/solomon --time-limit 10
    .venv/bin/python bench/planning.py --synthetic 1000 [--time-limit 60]

Both modes plan through Waybill's own planning code: they build a ``routing.problem.Problem``
and call ``routing.solver.solve`` with the time limit as its budget, exactly as the planning
job does; the solver's PyVRP model, penalties and explanations are the ones under test. Every
plan is then checked by this script, independently of the solver.

``--instances DIR``: every Solomon-format VRPTW instance ``DIR/*.txt`` (100 customers, one
depot, the instance's fleet of ``VEHICLE NUMBER`` vehicles of ``CAPACITY``) and the reference
distances of ``DIR/bks.csv``. Each instance becomes one depot, one visit per customer (demand as
the weight, its service time and window), one vehicle group (the instance's vehicles and
capacity, one unit of cost per unit of distance, nothing per vehicle or second, the depot's
horizon as the shift) with one gate slot over that horizon, ``PlanarMatrix`` matrices and every
visit required. Everything is scaled by ``SCALE`` to integers, as the solver needs. The route
distance reported is recomputed from the planned stop order and the original coordinates,
unrounded Euclidean, as the literature does, and the plan is checked: every customer exactly
once, capacity, time windows (service starts at max(arrival, ready) and no later than the due
date, with unrounded travel times), return to the depot by its due date, vehicles used at most
``VEHICLE NUMBER``. Per instance: vehicles used, distance, reference, gap % =
(distance - reference) / reference x 100, feasible, run time and the solver's iterations. An
instance the solver fails on (it raises, leaves a customer out, or the plan fails the check) is
a failure: its gap counts as infinite, so the averages say ``inf``. The last line is
machine-readable::

    avg_gap_pct=X max_gap_pct=Y

``--synthetic N``: one day of N seeded random orders within about 15 km of a depot near
Copenhagen (weights, volumes, 1-4 collis, service times, about 70 % with 2-3 h delivery
windows between 08:00 and 18:00, some needing two persons, a few needing a cold chain that no
group has, a few far too heavy for any vehicle), three vehicle groups (vans with a break rule,
two-person trucks, cargo bikes), two gates with three departure slots each, great-circle
matrices per vehicle type and optional visits (prize collecting), as a real planning job. It
prints the plan's figures, the orders left out by reason and an independent check of every
route (loads and stop limits, tags, stop times within windows from the matrix durations and
service times, start within the gate slot, departures per slot, routes per group, shift end,
maximum duration and the break). The last line is machine-readable::

    routes=R distance_km=D unscheduled=U solve_s=T feasible=yes|no

The solver uses one core; the time limit is wall clock, so a busy machine gets less search done
in it. The report starts with the load average for that reason.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from routing.matrix import GreatCircleMatrix, PlanarMatrix  # noqa: E402
from routing.problem import (  # noqa: E402
    DepotSpec,
    Fleet,
    GateSlot,
    PlannedRoute,
    Problem,
    Solution,
    Visit,
)
from routing.solver import solve  # noqa: E402

# The solver works in integers. Solomon coordinates, windows and service times are small
# numbers with unrounded Euclidean distances between them; multiplying the whole instance (its
# distances and all its times alike, as travel time equals distance) by 1000 before rounding
# keeps three decimals, so rounding changes a route of 100 legs by at most 0.05 units, under
# 0.01 % of any Solomon total, and window feasibility is decided to within a thousandth.
SCALE = 1000
# Float slack for the unrounded feasibility check: sums of square roots, nothing more.
EPSILON = 1e-6

TARGET_AVG_GAP_PCT = 0.5
TARGET_MAX_GAP_PCT = 1.5
TARGET_SYNTHETIC_S = 60.0


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


# --- Solomon instances --------------------------------------------------------------------


@dataclass
class Customer:
    number: int
    x: float
    y: float
    demand: float
    ready: float
    due: float
    service: float


@dataclass
class Instance:
    name: str
    vehicles: int
    capacity: float
    depot: Customer
    customers: list[Customer]


@dataclass
class Reference:
    vehicles: int
    distance: float


def solomon_read(path: Path) -> Instance:
    """A Solomon-format instance: the fleet line after ``CAPACITY``, then customer rows."""
    lines = path.read_text().splitlines()
    fleet: tuple[int, float] | None = None
    rows: list[Customer] = []
    for index, line in enumerate(lines):
        fields = line.split()
        if fleet is None and "CAPACITY" in line.upper():
            following = next((ln.split() for ln in lines[index + 1 :] if ln.strip()), [])
            if len(following) != 2:
                raise BenchError(f"{path}: no 'VEHICLE NUMBER  CAPACITY' figures.")
            fleet = (int(following[0]), float(following[1]))
            continue
        if len(fields) == 7:
            try:
                number, *values = (float(f) for f in fields)
            except ValueError:
                continue  # the header row
            rows.append(Customer(int(number), *values))
    if fleet is None or not rows or rows[0].number != 0:
        raise BenchError(f"{path}: not a Solomon instance (fleet line and customer 0 first).")
    return Instance(path.stem, fleet[0], fleet[1], rows[0], rows[1:])


def references_read(path: Path) -> dict[str, Reference]:
    try:
        with path.open(newline="") as handle:
            return {
                row["instance"]: Reference(int(row["vehicles"]), float(row["distance"]))
                for row in csv.DictReader(handle)
            }
    except (OSError, KeyError, ValueError) as exc:
        raise BenchError(f"{path}: cannot read the references: {exc}") from exc


def scaled(value: float) -> int:
    return round(value * SCALE)


def solomon_problem(instance: Instance) -> Problem:
    """The instance as Waybill's planner sees it, everything scaled by ``SCALE``."""
    depot = instance.depot
    horizon = (scaled(depot.ready), scaled(depot.due))
    visits = [
        Visit(
            key=str(c.number),
            position=(c.x, c.y),
            weight_g=round(c.demand),
            service_s=scaled(c.service),
            window=(scaled(c.ready), scaled(c.due)),
        )
        for c in instance.customers
    ]
    fleet = Fleet(
        key="fleet",
        name=f"{instance.name} fleet",
        depot="depot",
        vehicle_type="planar",
        vehicles=instance.vehicles,
        max_weight_g=round(instance.capacity),
        cost_per_m=1,
        cost_per_s=0,
        cost_per_vehicle=0,
        shift=horizon,
    )
    slot = GateSlot(
        gate="depot", depot="depot", start_s=horizon[0], end_s=horizon[1], departures=fleet.vehicles
    )
    points = [(depot.x, depot.y)] + [v.position for v in visits]
    return Problem(
        depots=[DepotSpec(key="depot", position=(depot.x, depot.y))],
        visits=visits,
        fleets=[fleet],
        slots=[slot],
        matrices={"planar": PlanarMatrix(scale=SCALE).matrix(points, "planar")},
        visits_required=True,
    )


def solomon_check(instance: Instance, solution: Solution) -> tuple[float, list[str]]:
    """The unrounded Euclidean distance of the plan, and what is wrong with it (if anything).

    Works from the planned stop order and the instance's own floats only.
    """
    problems: list[str] = []
    by_key = {str(c.number): c for c in instance.customers}
    depot = instance.depot
    seen: Counter[str] = Counter()
    total = 0.0
    for number, route in enumerate(solution.routes, 1):
        stops = [by_key.get(s.visit) for s in route.stops]
        if any(c is None for c in stops):
            problems.append(f"route {number} visits an unknown customer")
            continue
        load = 0.0
        here, clock = depot, depot.ready
        for customer in stops:
            seen[str(customer.number)] += 1
            leg = math.hypot(customer.x - here.x, customer.y - here.y)
            total += leg
            start = max(clock + leg, customer.ready)
            if start > customer.due + EPSILON:
                problems.append(
                    f"route {number}: customer {customer.number} served at {start:.3f}, "
                    f"due {customer.due:g}"
                )
            clock = start + customer.service
            load += customer.demand
            here = customer
        back = math.hypot(depot.x - here.x, depot.y - here.y)
        total += back
        if clock + back > depot.due + EPSILON:
            problems.append(f"route {number}: back at {clock + back:.3f}, depot due {depot.due:g}")
        if load > instance.capacity + EPSILON:
            problems.append(f"route {number}: load {load:g} > capacity {instance.capacity:g}")
    used = sum(1 for r in solution.routes if r.stops)
    if used > instance.vehicles:
        problems.append(f"{used} vehicles used, {instance.vehicles} available")
    missing = [str(c.number) for c in instance.customers if seen[str(c.number)] == 0]
    twice = [key for key, n in seen.items() if n > 1]
    if missing:
        problems.append(f"{len(missing)} customers not served: {', '.join(missing[:10])}")
    if twice:
        problems.append(f"customers served more than once: {', '.join(twice[:10])}")
    return total, problems


def run_solomon(args: argparse.Namespace) -> int:
    folder = Path(args.instances)
    paths = sorted(folder.glob("*.txt"))
    if not paths:
        raise BenchError(f"no *.txt instances in {folder}")
    references = references_read(folder / "bks.csv")
    print(
        f"Solomon VRPTW: {len(paths)} instances in {folder}; routing.solver.solve, "
        f"{args.time_limit:g} s each, seed {args.seed}; SCALE {SCALE}"
    )
    header = (
        f"{'instance':<9} {'veh':>4} {'ref veh':>7} {'distance':>10} {'reference':>10} "
        f"{'gap %':>7} {'feasible':>8} {'run s':>6} {'iters':>6}"
    )
    print(header)
    print("-" * len(header))
    gaps: list[float] = []
    failures: list[str] = []
    for path in paths:
        instance = solomon_read(path)
        reference = references.get(instance.name)
        if reference is None:
            raise BenchError(f"{instance.name} has no line in {folder / 'bks.csv'}")
        problem = solomon_problem(instance)
        began = time.perf_counter()
        try:
            solution = solve(problem, time_budget_s=args.time_limit, seed=args.seed)
        except Exception as exc:  # any failure of the planner is the benchmark's finding
            elapsed = time.perf_counter() - began
            failures.append(f"{instance.name}: solve raised {type(exc).__name__}: {exc}")
            if args.verbose:
                traceback.print_exc()
            gaps.append(math.inf)
            print(
                f"{instance.name:<9} {'-':>4} {reference.vehicles:>7} {'-':>10} "
                f"{reference.distance:>10.2f} {'FAIL':>7} {'NO':>8} {elapsed:>6.1f} {'-':>6}"
            )
            continue
        elapsed = time.perf_counter() - began
        distance, problems = solomon_check(instance, solution)
        if solution.unscheduled:
            problems.append(
                f"the solver left {len(solution.unscheduled)} customers out: "
                + ", ".join(
                    f"{k} ({'/'.join(v)})" for k, v in list(solution.unscheduled.items())[:5]
                )
            )
        used = sum(1 for r in solution.routes if r.stops)
        gap = (distance - reference.distance) / reference.distance * 100
        feasible = not problems
        if not feasible:
            failures.extend(f"{instance.name}: {p}" for p in problems)
        gaps.append(gap if feasible else math.inf)
        print(
            f"{instance.name:<9} {used:>4} {reference.vehicles:>7} {distance:>10.2f} "
            f"{reference.distance:>10.2f} {gap:>7.2f} {'yes' if feasible else 'NO':>8} "
            f"{elapsed:>6.1f} {solution.iterations:>6}"
        )
    average = sum(gaps) / len(gaps)
    worst = max(gaps)
    print("-" * len(header))
    print(f"average gap {average:.2f} %, maximum {worst:.2f} % over {len(gaps)} instances")
    if failures:
        print(f"FAILURES ({len(failures)}): the gaps above count them as infinite")
        for failure in failures:
            print(f"    {failure}")
    met = not failures and average <= TARGET_AVG_GAP_PCT and worst <= TARGET_MAX_GAP_PCT
    print(
        f"targets: average gap <= {TARGET_AVG_GAP_PCT} %, maximum <= {TARGET_MAX_GAP_PCT} %, "
        "every plan feasible: " + ("met" if met else "MISSED")
    )
    print(f"avg_gap_pct={average:.2f} max_gap_pct={worst:.2f}")
    return 0


# --- The synthetic day --------------------------------------------------------------------

DEPOT_POSITION = (55.66, 12.45)
RADIUS_M = 15_000
M_PER_DEGREE_LAT = 111_320
HOUR = 3600
TWO_PERSON = "Handling:2person"
FROZEN = "Temperature:Frozen"  # no group handles it
GATE_SLOTS = [(7 * HOUR, 7 * HOUR + 1800), (7 * HOUR + 1800, 8 * HOUR), (8 * HOUR, 8 * HOUR + 1800)]
DEPARTURES_PER_SLOT = 6


def synthetic_fleets() -> list[Fleet]:
    # Costs in ten-thousandths of a krone: per metre, per second (the driver) and per vehicle.
    return [
        Fleet(
            key="vans",
            name="Vans",
            depot="cph",
            vehicle_type="van",
            vehicles=14,
            max_weight_g=800_000,
            max_volume_l=8_000,
            max_colli=100,
            max_stops=25,
            max_duration_s=10 * HOUR,
            cost_per_m=30,
            cost_per_s=833,
            cost_per_vehicle=5_000_000,
            shift=(7 * HOUR, 17 * HOUR),
            break_after_s=int(4.5 * HOUR),
            break_duration_s=1800,
        ),
        Fleet(
            key="trucks",
            name="Two-person trucks",
            depot="cph",
            vehicle_type="truck",
            vehicles=6,
            tags=frozenset({TWO_PERSON}),
            max_weight_g=2_000_000,
            max_volume_l=18_000,
            max_colli=200,
            max_duration_s=10 * HOUR,
            cost_per_m=50,
            cost_per_s=1_667,
            cost_per_vehicle=8_000_000,
            shift=(7 * HOUR, 17 * HOUR),
            break_after_s=int(4.5 * HOUR),
            break_duration_s=1800,
        ),
        Fleet(
            key="bikes",
            name="Cargo bikes",
            depot="cph",
            vehicle_type="cargo-bike",
            vehicles=8,
            max_weight_g=100_000,
            max_volume_l=1_500,
            max_colli=30,
            max_stops=12,
            max_duration_s=8 * HOUR,
            cost_per_m=5,
            cost_per_s=700,
            cost_per_vehicle=1_000_000,
            shift=(8 * HOUR, 16 * HOUR),
        ),
    ]


def synthetic_visits(rng: random.Random, count: int) -> list[Visit]:
    visits = []
    heavy = set(rng.sample(range(count), k=min(count, max(1, count // 200))))
    for index in range(count):
        distance = RADIUS_M * math.sqrt(rng.random())
        bearing = rng.uniform(0, 2 * math.pi)
        lat = DEPOT_POSITION[0] + distance * math.cos(bearing) / M_PER_DEGREE_LAT
        lon = DEPOT_POSITION[1] + distance * math.sin(bearing) / (
            M_PER_DEGREE_LAT * math.cos(math.radians(DEPOT_POSITION[0]))
        )
        draw = rng.random()
        tags: frozenset[str] = frozenset()
        if draw < 0.08:
            tags = frozenset({TWO_PERSON})
        elif draw < 0.10:
            tags = frozenset({FROZEN})
        colli = rng.randint(1, 4)
        weight_g = rng.randint(1_000, 60_000)
        volume_l = rng.randint(5, 60) * colli
        if TWO_PERSON in tags:
            weight_g = rng.randint(30_000, 150_000)
            volume_l = rng.randint(200, 1_500)
        if index in heavy:
            weight_g = rng.randint(2_500_000, 6_000_000)  # more than any vehicle carries
        window = None
        if rng.random() < 0.70:
            length = rng.choice((2, 3)) * HOUR
            opens = rng.randrange(8 * HOUR, 18 * HOUR - length + 1, 900)
            window = (opens, opens + length)
        visits.append(
            Visit(
                key=f"order-{index + 1:04d}",
                position=(lat, lon),
                weight_g=weight_g,
                volume_l=volume_l,
                colli=colli,
                service_s=rng.randint(3 * 60, 8 * 60),
                window=window,
                tags=tags,
            )
        )
    return visits


def synthetic_problem(count: int, seed: int) -> Problem:
    rng = random.Random(f"planning-{seed}")
    visits = synthetic_visits(rng, count)
    fleets = synthetic_fleets()
    slots = [
        GateSlot(gate=gate, depot="cph", start_s=start, end_s=end, departures=DEPARTURES_PER_SLOT)
        for gate in ("A", "B")
        for start, end in GATE_SLOTS
    ]
    points = [DEPOT_POSITION] + [v.position for v in visits]
    provider = GreatCircleMatrix()
    matrices = {f.vehicle_type: provider.matrix(points, f.vehicle_type) for f in fleets}
    return Problem(
        depots=[DepotSpec(key="cph", position=DEPOT_POSITION)],
        visits=visits,
        fleets=fleets,
        slots=slots,
        matrices=matrices,
        visits_required=False,
    )


def route_check(problem: Problem, route: PlannedRoute, fleet: Fleet) -> list[str]:
    """What is wrong with one planned route, from the problem's own data."""
    problems: list[str] = []
    index = {v.key: i for i, v in enumerate(problem.visits)}
    matrix = problem.matrices[fleet.vehicle_type]
    depot = problem.depot_index(fleet.depot)
    visits = [problem.visits[index[s.visit]] for s in route.stops]
    if sum(v.weight_g for v in visits) > (fleet.max_weight_g or math.inf):
        problems.append("weight over the group's limit")
    if sum(v.volume_l for v in visits) > (fleet.max_volume_l or math.inf):
        problems.append("volume over the group's limit")
    if sum(v.colli for v in visits) > (fleet.max_colli or math.inf):
        problems.append("colli over the group's limit")
    if len(visits) > (fleet.max_stops or math.inf):
        problems.append(f"{len(visits)} stops, the group allows {fleet.max_stops}")
    for visit in visits:
        if not visit.tags <= fleet.tags:
            problems.append(f"{visit.key} needs {sorted(visit.tags - fleet.tags)}")
    # The stop times: the route's own, which must respect travel, windows and service ...
    here, clock, longest_wait, distance = depot, route.start_s, 0, 0
    for stop, visit in zip(route.stops, visits, strict=True):
        there = problem.location(index[visit.key])
        travel = int(matrix.duration_s[here, there])
        distance += int(matrix.distance_m[here, there])
        early, late = visit.window if visit.window is not None else (0, math.inf)
        if stop.arrival_s < clock + travel:
            problems.append(f"{visit.key}: arrives at {stop.arrival_s}, earliest {clock + travel}")
        if not (max(stop.arrival_s, early) <= stop.start_s <= late):
            problems.append(f"{visit.key}: starts at {stop.start_s}, window {visit.window}")
        if stop.end_s != stop.start_s + visit.service_s:
            problems.append(f"{visit.key}: ends at {stop.end_s}, not after its service time")
        longest_wait = max(longest_wait, stop.start_s - (clock + travel))
        here, clock = there, stop.end_s
    back = int(matrix.duration_s[here, depot])
    distance += int(matrix.distance_m[here, depot])
    # ... and the earliest schedule from the route's start, recomputed here.
    earliest = route.start_s
    here = depot
    for visit in visits:
        there = problem.location(index[visit.key])
        early, late = visit.window if visit.window is not None else (0, math.inf)
        earliest = max(earliest + int(matrix.duration_s[here, there]), early)
        if earliest > late:
            problems.append(f"{visit.key}: cannot start before {earliest}, window {visit.window}")
        earliest += visit.service_s
        here = there
    end = clock + back
    needs_break = fleet.break_after_s is not None and end - route.start_s > fleet.break_after_s
    if needs_break and longest_wait < fleet.break_duration_s:
        end += fleet.break_duration_s  # no wait long enough to take it in: it comes on top
    if route.end_s < end:
        problems.append(f"ends at {route.end_s}, earliest possible {end}")
    if needs_break and route.break_s < fleet.break_duration_s:
        problems.append(f"a {fleet.break_duration_s} s break is due, {route.break_s} s planned")
    if distance != route.distance_m:
        problems.append(f"distance {route.distance_m} m, the matrix says {distance} m")
    if distance > (fleet.max_distance_m or math.inf):
        problems.append("distance over the group's limit")
    if not (route.slot_start_s <= route.start_s <= route.slot_end_s):
        problems.append(f"starts at {route.start_s}, outside its slot")
    if not (fleet.shift[0] <= route.start_s and route.end_s <= fleet.shift[1]):
        problems.append(f"{route.start_s}-{route.end_s} outside the shift {fleet.shift}")
    if route.end_s - route.start_s > (fleet.max_duration_s or math.inf):
        problems.append(f"lasts {route.end_s - route.start_s} s, over {fleet.max_duration_s} s")
    return problems


def synthetic_check(problem: Problem, solution: Solution) -> list[str]:
    problems: list[str] = []
    fleets = {f.key: f for f in problem.fleets}
    slots = {(s.gate, s.start_s, s.end_s): s for s in problem.slots}
    planned: Counter[str] = Counter()
    per_slot: Counter[tuple[str, int, int]] = Counter()
    per_fleet: Counter[str] = Counter()
    for number, route in enumerate(solution.routes, 1):
        fleet = fleets.get(route.fleet)
        slot = (route.gate, route.slot_start_s, route.slot_end_s)
        if fleet is None or slot not in slots:
            problems.append(f"route {number}: unknown group {route.fleet} or slot {slot}")
            continue
        per_slot[slot] += 1
        per_fleet[fleet.key] += 1
        planned.update(s.visit for s in route.stops)
        problems.extend(
            f"route {number} ({fleet.key}): {p}" for p in route_check(problem, route, fleet)
        )
    for slot, n in per_slot.items():
        if n > slots[slot].departures:
            problems.append(
                f"gate {slot[0]} slot {slot[1]}: {n} routes, {slots[slot].departures} departures"
            )
    for key, n in per_fleet.items():
        if n > fleets[key].vehicles:
            problems.append(f"group {key}: {n} routes, {fleets[key].vehicles} vehicles")
    keys = {v.key for v in problem.visits}
    twice = [k for k, n in planned.items() if n > 1]
    if twice:
        problems.append(f"visits planned more than once: {', '.join(twice[:10])}")
    if set(planned) - keys:
        problems.append("routes visit unknown orders")
    both = set(planned) & set(solution.unscheduled)
    if both:
        problems.append(f"{len(both)} orders both planned and left out")
    neither = keys - set(planned) - set(solution.unscheduled)
    if neither:
        problems.append(f"{len(neither)} orders neither planned nor left out")
    return problems


def clock_text(seconds: int) -> str:
    return f"{seconds // HOUR:02d}:{seconds % HOUR // 60:02d}"


def run_synthetic(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    problem = synthetic_problem(args.synthetic, args.seed)
    built_s = time.perf_counter() - began
    tags = Counter(t for v in problem.visits for t in v.tags)
    windowed = sum(1 for v in problem.visits if v.window is not None)
    print(
        f"synthetic day: {len(problem.visits)} orders (seed {args.seed}) within "
        f"{RADIUS_M / 1000:g} km of {DEPOT_POSITION}; {windowed} with windows; "
        + ", ".join(f"{n} {t}" for t, n in sorted(tags.items()))
        + f"; problem and great-circle matrices built in {built_s:.1f} s"
    )
    for fleet in problem.fleets:
        print(
            f"  {fleet.key}: {fleet.vehicles} x {fleet.vehicle_type}, "
            f"{(fleet.max_weight_g or 0) / 1000:g} kg, {fleet.max_volume_l} l, "
            f"stops {fleet.max_stops or '-'}, tags {sorted(fleet.tags) or '-'}, shift "
            f"{clock_text(fleet.shift[0])}-{clock_text(fleet.shift[1])}"
        )
    print(
        "  gates A and B: "
        + ", ".join(
            f"{clock_text(a)}-{clock_text(b)} x{DEPARTURES_PER_SLOT}" for a, b in GATE_SLOTS
        )
    )
    began = time.perf_counter()
    solution = solve(problem, time_budget_s=args.time_limit, seed=args.seed)
    solve_s = time.perf_counter() - began
    problems = synthetic_check(problem, solution)
    print(
        f"solved in {solve_s:.1f} s (budget {args.time_limit:g} s): {solution.iterations} "
        f"iterations, stopped by {solution.stopped_by}"
    )
    print()
    print(
        f"{'route':>5} {'group':<7} {'gate':<4} {'slot':<11} {'start':>5} {'end':>5} "
        f"{'stops':>5} {'km':>6} {'kg':>7} {'l':>6} {'colli':>5} {'break':>5}"
    )
    for number, r in enumerate(sorted(solution.routes, key=lambda r: (r.start_s, r.fleet)), 1):
        print(
            f"{number:>5} {r.fleet:<7} {r.gate:<4} "
            f"{clock_text(r.slot_start_s)}-{clock_text(r.slot_end_s)} "
            f"{clock_text(r.start_s):>5} {clock_text(r.end_s):>5} {len(r.stops):>5} "
            f"{r.distance_m / 1000:>6.1f} {r.weight_g / 1000:>7.1f} {r.volume_l:>6} "
            f"{r.colli:>5} {r.break_s // 60:>4}m"
        )
    routes = len(solution.routes)
    distance_km = sum(r.distance_m for r in solution.routes) / 1000
    duration_h = sum(r.duration_s for r in solution.routes) / HOUR
    stops = sum(len(r.stops) for r in solution.routes)
    reasons = Counter(reason for rs in solution.unscheduled.values() for reason in rs)
    print()
    print(
        f"routes: {routes}; distance {distance_km:.1f} km; duration {duration_h:.1f} h; "
        f"stops planned {stops} of {len(problem.visits)}"
    )
    print(
        f"unscheduled: {len(solution.unscheduled)}"
        + "".join(f"; {reason} {n}" for reason, n in reasons.most_common())
    )
    print(f"solve time: {solve_s:.1f} s")
    feasible = not problems
    print(f"independent check: {len(problems)} problems" + (":" if problems else ""))
    for p in problems[:30]:
        print(f"    {p}")
    met = feasible and solve_s <= TARGET_SYNTHETIC_S
    print(
        f"targets: solved in <= {TARGET_SYNTHETIC_S:g} s, every route feasible: "
        + ("met" if met else "MISSED")
    )
    print(
        f"routes={routes} distance_km={distance_km:.1f} unscheduled={len(solution.unscheduled)} "
        f"solve_s={solve_s:.1f} feasible={'yes' if feasible else 'no'}"
    )
    return 0


# --- Command line -------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--instances", metavar="DIR", help="folder of Solomon *.txt and bks.csv")
    mode.add_argument("--synthetic", type=int, metavar="N", help="plan a day of N random orders")
    parser.add_argument(
        "--time-limit",
        type=float,
        help="solver budget in seconds, per instance (required with --instances; 60 synthetic)",
    )
    parser.add_argument("--seed", type=int, default=1, help="solver (and orders) seed (1)")
    parser.add_argument("--verbose", action="store_true", help="tracebacks of failed solves")
    args = parser.parse_args(argv)
    if args.instances is not None and args.time_limit is None:
        parser.error("--instances needs --time-limit")
    if args.time_limit is None:
        args.time_limit = 60.0
    if args.time_limit <= 0:
        parser.error("--time-limit must be positive")
    if args.synthetic is not None and args.synthetic < 1:
        parser.error("--synthetic must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"load average: {load} ({os.cpu_count()} CPUs)")
    if args.instances is not None:
        return run_solomon(args)
    return run_synthetic(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench/planning.py: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench/planning.py: interrupted.", file=sys.stderr)
        sys.exit(130)
