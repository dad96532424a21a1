"""The solver against an independent feasibility check, reason by reason and rule by rule.

Plain objects, no database. Every solve is capped by ``max_iterations`` so results depend on
the problem and seed only, and the file stays quick.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import random
from collections import Counter

from routing.matrix import GreatCircleMatrix, PlanarMatrix
from routing.problem import DepotSpec, Fleet, GateSlot, Problem, Solution, Visit
from routing.solver import allocate_departures, solve
from tests.routing.feasibility import check_solution

REASONS = {
    "no-routes-can-handle-tag",
    "capacity-exceeded",
    "time-window-infeasible",
    "max-order-count-exceeded",
    "insufficient-capacity",
}
COPENHAGEN = (55.6761, 12.5683)
TWO_PERSON = "Handling:2person"
H = 3600
KG = 1000


def _problem(depots, visits, fleets, slots, provider=None, **kwargs) -> Problem:
    provider = provider or PlanarMatrix()
    points = [d.position for d in depots] + [v.position for v in visits]
    matrices = {f.vehicle_type: provider.matrix(points, f.vehicle_type) for f in fleets}
    return Problem(
        depots=depots, visits=visits, fleets=fleets, slots=slots, matrices=matrices, **kwargs
    )


def _solve(problem: Problem, iterations: int = 300, seed: int = 1) -> Solution:
    return solve(problem, time_budget_s=60, seed=seed, max_iterations=iterations)


def _copenhagen_day(seed: int = 7, visits: int = 40) -> Problem:
    rng = random.Random(seed)
    depot = DepotSpec("kbh", (55.6650, 12.5500))
    fleets = [
        Fleet(
            key="vans",
            name="Vans",
            depot="kbh",
            vehicle_type="van",
            vehicles=3,
            tags=frozenset({TWO_PERSON}),
            max_weight_g=600 * KG,
            max_volume_l=6000,
            max_stops=9,
            max_duration_s=8 * H,
            cost_per_m=3,
            cost_per_s=2,
            cost_per_vehicle=50_000,
            shift=(7 * H, 17 * H),
            break_after_s=2 * H,
            break_duration_s=30 * 60,
        ),
        Fleet(
            key="bikes",
            name="Cargo bikes",
            depot="kbh",
            vehicle_type="cargo-bike",
            vehicles=4,
            max_weight_g=120 * KG,
            max_volume_l=400,
            max_colli=12,
            max_stops=7,
            max_duration_s=5 * H,
            max_distance_m=45_000,
            cost_per_m=1,
            cost_per_s=1,
            cost_per_vehicle=10_000,
            shift=(7 * H, 15 * H),
            break_after_s=3 * H,
            break_duration_s=20 * 60,
        ),
    ]
    slots = [
        GateSlot("A", "kbh", 7 * H, 7 * H + 1800, 2),
        GateSlot("A", "kbh", 10 * H, 10 * H + 1800, 2),
        GateSlot("B", "kbh", 7 * H + 900, 8 * H, 2),
        GateSlot("B", "kbh", 12 * H, 12 * H + 1800, 1),
    ]
    day: list[Visit] = []
    for n in range(visits):
        window = None
        if rng.random() < 0.6:
            opens = rng.randrange(8 * H, 14 * H, 900)
            window = (opens, opens + rng.choice([1, 2, 3]) * H)
        tags = frozenset({TWO_PERSON}) if rng.random() < 0.15 else frozenset()
        day.append(
            Visit(
                key=f"v{n:02d}",
                position=(
                    COPENHAGEN[0] + rng.uniform(-0.06, 0.06),
                    COPENHAGEN[1] + rng.uniform(-0.12, 0.12),
                ),
                weight_g=rng.randint(2, 60) * KG,
                volume_l=rng.randint(5, 60),
                colli=rng.randint(1, 3),
                service_s=rng.choice([180, 300, 600]),
                window=window,
                tags=tags,
            )
        )
    return _problem([depot], day, fleets, slots, provider=GreatCircleMatrix())


def _line(n: int, *, step: float = 500, **visit) -> list[Visit]:
    """``n`` visits east of the depot at the origin, ``step`` metres (and seconds) apart."""
    return [Visit(key=f"v{i}", position=(0.0, step * (i + 1)), **visit) for i in range(n)]


DEPOT = DepotSpec("d", (0.0, 0.0))


def _fleet(**overrides) -> Fleet:
    fields = dict(key="f", name="Fleet", depot="d", vehicle_type="van", vehicles=2)
    return Fleet(**(fields | overrides))


def _slot(start_s: int = 8 * H, end_s: int = 9 * H, departures: int = 5, gate="G") -> GateSlot:
    return GateSlot(gate, "d", start_s, end_s, departures)


def _reasons(solution: Solution) -> dict[str, str]:
    assert all(len(reasons) == 1 for reasons in solution.unscheduled.values())
    return {key: reasons[0] for key, reasons in solution.unscheduled.items()}


def _route_of(solution: Solution) -> dict[str, str]:
    return {stop.visit: route.fleet for route in solution.routes for stop in route.stops}


# A random-ish day


def test_it_plans_a_copenhagen_day_that_the_checker_finds_feasible():
    problem = _copenhagen_day()
    solution = _solve(problem, iterations=600)

    assert check_solution(problem, solution) == []
    on_routes = [stop.visit for route in solution.routes for stop in route.stops]
    assert len(on_routes) == len(set(on_routes))
    assert set(on_routes).isdisjoint(solution.unscheduled)
    assert set(on_routes) | set(solution.unscheduled) == {v.key for v in problem.visits}
    for reasons in solution.unscheduled.values():
        assert len(reasons) == 1 and reasons[0] in REASONS
    # The day is meant to exercise the rules, not to be trivially empty.
    assert {route.fleet for route in solution.routes} == {"vans", "bikes"}
    assert len(on_routes) >= 25
    assert any(route.break_s for route in solution.routes)


# One constructed case per reason


def test_it_leaves_out_a_visit_no_fleet_has_the_tag_for():
    visits = _line(3) + [Visit("frozen", (0.0, 900.0), tags=frozenset({"Cold:frozen"}))]
    problem = _problem([DEPOT], visits, [_fleet(tags=frozenset({TWO_PERSON}))], [_slot()])
    solution = _solve(problem)

    assert check_solution(problem, solution) == []
    assert _reasons(solution) == {"frozen": "no-routes-can-handle-tag"}


def test_it_leaves_out_a_visit_heavier_than_any_vehicle():
    visits = _line(3, weight_g=10 * KG) + [Visit("piano", (0.0, 900.0), weight_g=900 * KG)]
    fleets = [
        _fleet(key="small", max_weight_g=100 * KG),
        _fleet(key="big", vehicle_type="truck", max_weight_g=800 * KG),
    ]
    problem = _problem([DEPOT], visits, fleets, [_slot()])
    solution = _solve(problem)

    assert check_solution(problem, solution) == []
    assert _reasons(solution) == {"piano": "capacity-exceeded"}


def test_it_leaves_out_a_visit_whose_window_closes_before_any_vehicle_can_arrive():
    # The earliest departure is 08:00 and the visit is 1000 s away: 08:16:40 at the soonest.
    late = Visit("early-bird", (0.0, 1000.0), window=(7 * H, 8 * H + 600))
    problem = _problem(
        [DEPOT],
        _line(3) + [late],
        [_fleet()],
        [_slot(8 * H, 9 * H, 1), _slot(10 * H, 11 * H, 1, gate="G2")],
    )
    solution = _solve(problem)

    assert check_solution(problem, solution) == []
    assert _reasons(solution) == {"early-bird": "time-window-infeasible"}


def test_it_leaves_out_the_visits_beyond_vehicles_times_max_stops():
    fleet = _fleet(vehicles=2, max_stops=3, max_weight_g=1000 * KG)
    problem = _problem([DEPOT], _line(8, weight_g=KG), [fleet], [_slot()])
    solution = _solve(problem)

    assert check_solution(problem, solution) == []
    assert sum(len(route.stops) for route in solution.routes) == 6
    assert _reasons(solution) == dict.fromkeys(solution.unscheduled, "max-order-count-exceeded")
    assert len(solution.unscheduled) == 2


def test_it_leaves_out_what_the_fleet_cannot_carry_when_stops_are_not_limiting():
    fleet = _fleet(vehicles=2, max_weight_g=100 * KG)
    problem = _problem([DEPOT], _line(6, weight_g=40 * KG), [fleet], [_slot()])
    solution = _solve(problem)

    assert check_solution(problem, solution) == []
    assert sum(len(route.stops) for route in solution.routes) == 4
    assert _reasons(solution) == dict.fromkeys(solution.unscheduled, "insufficient-capacity")
    assert len(solution.unscheduled) == 2


# Rules


def test_it_puts_two_person_visits_only_on_the_fleet_that_handles_them_even_when_costlier():
    visits = _line(6) + [
        Visit(f"heavy{i}", (300.0 * i, 1200.0), tags=frozenset({TWO_PERSON})) for i in range(4)
    ]
    fleets = [
        _fleet(key="cheap", vehicles=3, cost_per_m=1),
        _fleet(
            key="crew",
            vehicle_type="truck",
            vehicles=2,
            tags=frozenset({TWO_PERSON}),
            cost_per_m=20,
            cost_per_vehicle=5_000,
        ),
    ]
    problem = _problem([DEPOT], visits, fleets, [_slot()])
    solution = _solve(problem, iterations=500)

    assert check_solution(problem, solution) == []
    assert solution.unscheduled == {}
    placed = _route_of(solution)
    assert all(placed[f"heavy{i}"] == "crew" for i in range(4))
    # The costlier crew takes nothing it does not have to.
    assert all(placed[f"v{i}"] == "cheap" for i in range(6))


def test_it_starts_one_route_in_each_of_three_single_departure_slots():
    slots = [
        _slot(7 * H, 7 * H + 900, 1),
        _slot(9 * H, 9 * H + 900, 1),
        _slot(11 * H, 11 * H + 900, 1),
    ]
    fleet = _fleet(vehicles=3, max_stops=4, shift=(6 * H, 18 * H))
    problem = _problem([DEPOT], _line(12, service_s=300), [fleet], slots)
    solution = _solve(problem)

    assert check_solution(problem, solution) == []
    assert solution.unscheduled == {}
    assert sorted(route.slot_start_s for route in solution.routes) == [7 * H, 9 * H, 11 * H]
    for route in solution.routes:
        assert route.slot_start_s <= route.start_s <= route.slot_end_s


def test_it_plans_around_a_slot_that_opens_in_the_break_kept_free_before_the_shift_ends():
    # Shift 06:00-12:00 with a 30 min break kept free: nothing may leave after 11:30, so the
    # 11:45 slot is of no use; it once made PyVRP reject the model (start_late > tw_late).
    fleet = _fleet(
        vehicles=2, max_stops=3, shift=(6 * H, 12 * H), break_after_s=2 * H, break_duration_s=1800
    )
    slots = [_slot(8 * H, 8 * H + 900, 1), _slot(11 * H + 2700, 12 * H, 1, gate="late")]
    problem = _problem([DEPOT], _line(3, service_s=300), [fleet], slots)

    assert [share.slot.gate for share in allocate_departures(problem)] == ["G"]
    solution = _solve(problem)

    assert check_solution(problem, solution) == []
    assert solution.unscheduled == {}
    assert [route.gate for route in solution.routes] == ["G"]


def test_it_plans_the_same_routes_for_the_same_problem_seed_and_iterations():
    def plan(solution: Solution):
        return [
            (r.fleet, r.gate, r.start_s, r.end_s, [(s.visit, s.start_s) for s in r.stops])
            for r in solution.routes
        ]

    problem = _copenhagen_day(seed=11, visits=30)
    first = _solve(problem, iterations=400, seed=3)
    second = _solve(problem, iterations=400, seed=3)

    assert plan(first) == plan(second)
    assert first.unscheduled == second.unscheduled
    assert first.cost == second.cost


def test_it_never_allocates_a_fleet_or_a_slot_more_than_it_has():
    rng = random.Random(5)
    for _ in range(200):
        depots = [DepotSpec("d1", (0.0, 0.0)), DepotSpec("d2", (0.0, 1.0))]
        fleets = [
            Fleet(
                key=f"f{i}",
                name=f"F{i}",
                depot=rng.choice(["d1", "d2"]),
                vehicle_type="van",
                vehicles=rng.randint(0, 6),
                shift=(rng.choice([0, 6 * H, 12 * H]), rng.choice([14 * H, 24 * H])),
            )
            for i in range(rng.randint(1, 4))
        ]
        slots = []
        for j in range(rng.randint(1, 6)):
            start = rng.randrange(0, 20 * H, 1800)
            slots.append(
                GateSlot(
                    f"g{j % 2}", rng.choice(["d1", "d2"]), start, start + 1800, rng.randint(0, 4)
                )
            )
        problem = Problem(depots=depots, visits=[], fleets=fleets, slots=slots, matrices={})

        shares = allocate_departures(problem)

        per_fleet = Counter()
        per_slot = Counter()
        for share in shares:
            assert share.count > 0
            assert share.fleet.depot == share.slot.depot
            # A vehicle leaving in the slot must be on shift then.
            assert max(share.slot.start_s, share.fleet.shift[0]) <= min(
                share.slot.end_s, share.fleet.shift[1]
            )
            per_fleet[share.fleet.key] += share.count
            per_slot[id(share.slot)] += share.count
        for fleet in fleets:
            assert per_fleet[fleet.key] <= fleet.vehicles
        for slot in slots:
            assert per_slot[id(slot)] <= slot.departures


def test_it_stops_when_on_progress_asks_to_cancel():
    problem = _copenhagen_day(seed=2, visits=150)
    calls = []

    def cancel(fraction: float) -> bool:
        calls.append(fraction)
        return True

    solution = solve(problem, time_budget_s=120, seed=1, on_progress=cancel)

    # Stopped at the first progress report, long before its budget.
    assert solution.stopped_by == "cancelled"
    assert len(calls) == 1 and 0 <= calls[0] < 1
    assert check_solution(problem, solution) == []


# The checker itself


@functools.cache
def checked_day() -> tuple[Problem, Solution]:
    """A small solved day with windows, tags, limits and two slots, and its valid solution."""
    visits = [
        Visit(f"a{i}", (0.0, 400.0 * (i + 1)), weight_g=300 * KG, service_s=120) for i in range(3)
    ]
    visits += [
        Visit(
            f"b{i}",
            (0.0, -400.0 * (i + 1)),
            weight_g=300 * KG,
            service_s=120,
            window=(8 * H + 3600 * i, 8 * H + 3600 * i + 1800),
        )
        for i in range(3)
    ]
    visits += [
        Visit("c0", (800.0, 0.0), tags=frozenset({TWO_PERSON})),
        Visit("c1", (1200.0, 0.0), tags=frozenset({TWO_PERSON})),
    ]
    fleets = [
        _fleet(key="van", vehicles=2, max_weight_g=1000 * KG, max_stops=3),
        _fleet(
            key="crew",
            vehicle_type="truck",
            vehicles=1,
            tags=frozenset({TWO_PERSON}),
            max_stops=2,
            cost_per_m=10,
        ),
    ]
    slots = [_slot(7 * H, 7 * H + 1800, 2, gate="A"), _slot(7 * H, 7 * H + 1800, 1, gate="B")]
    problem = _problem([DEPOT], visits, fleets, slots)
    solution = _solve(problem, iterations=400)
    assert check_solution(problem, solution) == []
    assert solution.unscheduled == {}
    return problem, solution


def _corrupted(checked, corrupt) -> list[str]:
    problem, solution = checked
    broken = copy.deepcopy(solution)
    corrupt(broken)
    return check_solution(problem, broken)


def _route(solution: Solution, *visits: str):
    return next(r for r in solution.routes if set(visits) <= {s.visit for s in r.stops})


def test_it_checker_catches_two_stops_swapped_across_their_windows():
    def swap(solution):
        # b0, b1 and b2 have windows an hour apart: serving one in another's place cannot work.
        route = _route(solution, "b0")
        first = next(i for i, s in enumerate(route.stops) if s.visit == "b0")
        second = first + 1 if first + 1 < len(route.stops) else first - 1
        a, b = route.stops[first], route.stops[second]
        a.visit, b.visit = b.visit, a.visit

    violations = _corrupted(checked_day(), swap)
    assert any("window" in v or "service start" in v for v in violations), violations


def test_it_checker_catches_an_overloaded_route():
    def overload(solution):
        route = _route(solution, "a0")
        other = next(r for r in solution.routes if r is not route and r.fleet == "van")
        moved = other.stops.pop()
        route.stops.append(moved)
        route.weight_g += 300 * KG
        other.weight_g -= 300 * KG

    violations = _corrupted(checked_day(), overload)
    assert any("overloaded" in v and "max_stops" in v for v in violations), violations
    assert any("overloaded" in v and "max_weight_g" in v for v in violations), violations


def test_it_checker_catches_a_start_outside_its_slot():
    def late_start(solution):
        route = solution.routes[0]
        shift = route.slot_end_s + 600 - route.start_s
        route.start_s += shift
        route.end_s += shift
        for stop in route.stops:
            stop.arrival_s += shift
            stop.start_s += shift
            stop.end_s += shift

    violations = _corrupted(checked_day(), late_start)
    assert any("outside its slot" in v for v in violations), violations


def test_it_checker_catches_a_tagged_visit_on_the_wrong_fleet():
    def wrong_fleet(solution):
        crew = _route(solution, "c0")
        van = next(r for r in solution.routes if r.fleet == "van")
        crew.stops, van.stops = van.stops, crew.stops

    violations = _corrupted(checked_day(), wrong_fleet)
    assert any("not handled by fleet 'van'" in v for v in violations), violations


def test_it_checker_catches_a_visit_planned_twice_or_lost():
    def twice(solution):
        solution.routes.append(copy.deepcopy(solution.routes[0]))

    def lost(solution):
        solution.routes[0].stops.pop()

    assert any("more than once" in v for v in _corrupted(checked_day(), twice))
    assert any("neither scheduled" in v for v in _corrupted(checked_day(), lost))


def test_it_checker_catches_a_wrong_distance_and_a_missing_break():
    problem, solution = checked_day()

    def distance(solution):
        solution.routes[0].distance_m -= 1

    assert any("distance" in v for v in _corrupted((problem, solution), distance))
    with_break = copy.deepcopy(problem)
    with_break.fleets = [
        dataclasses.replace(f, break_after_s=60, break_duration_s=900) for f in problem.fleets
    ]
    assert any("break_after_s" in v for v in check_solution(with_break, solution))
