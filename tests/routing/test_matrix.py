import json
import re
import time

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from werkzeug import Request, Response

from config.outbound import UnsafeTarget
from routing.matrix import (
    UNREACHABLE,
    GreatCircleMatrix,
    MatrixUnavailable,
    OsrmMatrix,
    PlanarMatrix,
    TravelMatrix,
    matrix_provider,
)

COPENHAGEN = (55.6761, 12.5683)  # Rådhuspladsen
AARHUS = (56.1629, 10.2039)
ODENSE = (55.3959, 10.3883)
AALBORG = (57.0488, 9.9217)

# A handful of Danish points for the OSRM stand-in, in (latitude, longitude).
POINTS = [
    COPENHAGEN,
    AARHUS,
    ODENSE,
    AALBORG,
    (55.4904, 8.4521),  # Esbjerg
    (55.7093, 9.5357),  # Vejle
    (55.6415, 12.0803),  # Roskilde
]
ISLAND = (0.0, 0.0)  # the stand-in routes nothing to or from here
TABLE_PATH = re.compile(r"^/table/v1/(?P<profile>[^/]+)/(?P<coords>[^/]+)$")


def _road(origin: tuple[float, float], target: tuple[float, float]) -> tuple[float, float]:
    """The stand-in's (duration, distance) for a pair: deliberately asymmetric and fractional."""
    (lon1, lat1), (lon2, lat2) = origin, target
    if origin == target:
        return 0.0, 0.0
    distance = (
        111_000 * abs(lat2 - lat1) + 63_000 * abs(lon2 - lon1) + (700.4 if lat1 < lat2 else 0)
    )
    return distance / 19.5, distance


def _expected(points: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [[_road((a[1], a[0]), (b[1], b[0])) for b in points] for a in points]
    duration = np.rint([[p[0] for p in row] for row in pairs]).astype(np.int64)
    distance = np.rint([[p[1] for p in row] for row in pairs]).astype(np.int64)
    return distance, duration


def _osrm_table(request: Request) -> Response:
    match = TABLE_PATH.match(request.path)
    assert match, request.path
    assert request.args["annotations"] == "distance,duration"
    coords = [tuple(map(float, pair.split(","))) for pair in match["coords"].split(";")]
    sources = [int(i) for i in request.args.get("sources", "").split(";") if i]
    destinations = [int(i) for i in request.args.get("destinations", "").split(";") if i]
    sources = sources or list(range(len(coords)))
    destinations = destinations or list(range(len(coords)))
    durations, distances = [], []
    for s in sources:
        duration_row, distance_row = [], []
        for d in destinations:
            if (coords[s] == (0.0, 0.0)) != (coords[d] == (0.0, 0.0)):
                duration_row.append(None)
                distance_row.append(None)
            else:
                duration, distance = _road(coords[s], coords[d])
                duration_row.append(duration)
                distance_row.append(distance)
        durations.append(duration_row)
        distances.append(distance_row)
    return Response(
        json.dumps({"code": "Ok", "durations": durations, "distances": distances}),
        content_type="application/json",
    )


def _coordinate_count(request: Request) -> int:
    return len(TABLE_PATH.match(request.path)["coords"].split(";"))


@pytest.fixture
def osrm(httpserver):
    httpserver.expect_request(TABLE_PATH, method="GET").respond_with_handler(_osrm_table)
    return httpserver


# Great circle


def test_it_measures_copenhagen_to_aarhus_as_about_157_km_times_the_detour_factor():
    straight = GreatCircleMatrix(detour_factor=1.0).matrix([COPENHAGEN, AARHUS], "van")
    detoured = GreatCircleMatrix().matrix([COPENHAGEN, AARHUS], "van")

    assert 156_000 < straight.distance_m[0, 1] < 158_000
    assert abs(detoured.distance_m[0, 1] - 1.3 * straight.distance_m[0, 1]) <= 1


def test_it_gives_a_symmetric_great_circle_matrix_with_a_zero_diagonal():
    result = GreatCircleMatrix().matrix(POINTS, "car")

    for matrix in (result.distance_m, result.duration_s):
        assert matrix.shape == (len(POINTS), len(POINTS))
        assert matrix.dtype == np.int64
        assert np.array_equal(matrix, matrix.T)
        assert not np.diagonal(matrix).any()
        assert (matrix[~np.eye(len(POINTS), dtype=bool)] > 0).all()


@pytest.mark.parametrize(
    ("vehicle_type", "speed_kmh"),
    [("bike", 15), ("cargo-bike", 15), ("car", 40), ("van", 35), ("truck", 30), ("hovercraft", 35)],
)
def test_it_times_great_circle_legs_at_the_vehicle_types_speed(vehicle_type, speed_kmh):
    result = GreatCircleMatrix().matrix([COPENHAGEN, AARHUS, ODENSE], vehicle_type)

    expected = result.distance_m / (speed_kmh / 3.6)
    # Distance and duration are each rounded from the same unrounded figure.
    assert np.abs(result.duration_s - expected).max() <= 1


def test_it_takes_its_own_speeds_and_default_speed():
    provider = GreatCircleMatrix(
        detour_factor=1.0, speeds_kmh={"walker": 3.6}, default_speed_kmh=36
    )
    walker = provider.matrix([COPENHAGEN, AARHUS], "walker")
    van = provider.matrix([COPENHAGEN, AARHUS], "van")

    assert walker.duration_s[0, 1] == walker.distance_m[0, 1]
    assert abs(van.duration_s[0, 1] * 10 - van.distance_m[0, 1]) <= 10


def test_it_builds_a_1001_point_great_circle_matrix():
    rng = np.random.default_rng(7)
    points = list(zip(rng.uniform(54.5, 57.8, 1001), rng.uniform(8.0, 12.7, 1001), strict=True))

    result = GreatCircleMatrix().matrix(points, "van")

    assert result.distance_m.shape == result.duration_s.shape == (1001, 1001)
    assert result.distance_m.dtype == result.duration_s.dtype == np.int64
    assert np.array_equal(result.distance_m, result.distance_m.T)
    assert not np.diagonal(result.distance_m).any()


def test_it_handles_no_points_and_one_point():
    assert GreatCircleMatrix().matrix([], "van").distance_m.shape == (0, 0)
    assert GreatCircleMatrix().matrix([COPENHAGEN], "van").duration_s.tolist() == [[0]]


# Planar


def test_it_measures_a_3_4_5_triangle_on_the_plane():
    result = PlanarMatrix().matrix([(0, 0), (3, 0), (3, 4)], "van")

    expected = [[0, 3, 5], [3, 0, 4], [5, 4, 0]]
    assert result.distance_m.tolist() == expected
    assert result.duration_s.tolist() == expected
    assert result.distance_m.dtype == result.duration_s.dtype == np.int64


def test_it_scales_and_rounds_planar_distances():
    result = PlanarMatrix(scale=10).matrix([(0, 0), (1, 1)], "van")

    # √2 × 10 = 14.14…
    assert result.distance_m.tolist() == [[0, 14], [14, 0]]
    assert result.duration_s.tolist() == [[0, 14], [14, 0]]


def test_it_refuses_a_matrix_that_is_not_square_int64():
    with pytest.raises(ValueError):
        TravelMatrix(distance_m=np.zeros((2, 2)), duration_s=np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError):
        TravelMatrix(
            distance_m=np.zeros((2, 3), dtype=np.int64), duration_s=np.zeros((2, 3), dtype=np.int64)
        )


# OSRM


def test_it_fetches_an_osrm_table_in_one_request(osrm):
    result = OsrmMatrix(osrm.url_for("/")).matrix(POINTS[:4], "van")

    distance, duration = _expected(POINTS[:4])
    assert np.array_equal(result.distance_m, distance)
    assert np.array_equal(result.duration_s, duration)
    assert result.distance_m.dtype == result.duration_s.dtype == np.int64
    assert len(osrm.log) == 1
    request = osrm.log[0][0]
    assert "sources" not in request.args and "destinations" not in request.args
    # Longitude first, as OSRM wants.
    assert TABLE_PATH.match(request.path)["coords"].startswith("12.568300,55.676100;")


def test_it_asks_osrm_for_the_profile_of_the_vehicle_type(osrm):
    OsrmMatrix(osrm.url_for("")).matrix(POINTS[:2], "cargo-bike")
    OsrmMatrix(osrm.url_for("")).matrix(POINTS[:2], "truck")
    OsrmMatrix(osrm.url_for(""), profiles={"truck": "hgv"}).matrix(POINTS[:2], "truck")

    profiles = [TABLE_PATH.match(request.path)["profile"] for request, _ in osrm.log]
    assert profiles == ["bike", "driving", "hgv"]


def test_it_assembles_a_chunked_osrm_table_like_the_whole_one(osrm):
    whole = OsrmMatrix(osrm.url_for("/")).matrix(POINTS, "van")
    osrm.clear_log()

    chunked = OsrmMatrix(osrm.url_for("/"), max_table_size=3).matrix(POINTS, "van")

    assert np.array_equal(chunked.distance_m, whole.distance_m)
    assert np.array_equal(chunked.duration_s, whole.duration_s)
    distance, duration = _expected(POINTS)
    assert np.array_equal(chunked.distance_m, distance)
    assert np.array_equal(chunked.duration_s, duration)
    assert len(osrm.log) > 1
    assert all(_coordinate_count(request) <= 3 for request, _ in osrm.log)
    assert all("sources" in request.args for request, _ in osrm.log)


def test_it_marks_pairs_osrm_cannot_route_as_unreachable(osrm):
    points = [COPENHAGEN, ISLAND, AARHUS]
    result = OsrmMatrix(osrm.url_for("/")).matrix(points, "van")

    for matrix in (result.distance_m, result.duration_s):
        assert matrix[0, 1] == matrix[1, 0] == matrix[2, 1] == matrix[1, 2] == UNREACHABLE
        assert matrix[1, 1] == 0
        assert 0 < matrix[0, 2] < UNREACHABLE


def test_it_raises_matrix_unavailable_on_an_http_error(httpserver):
    httpserver.expect_request(TABLE_PATH).respond_with_data("upstream exploded", status=500)

    with pytest.raises(MatrixUnavailable, match="HTTP 500"):
        OsrmMatrix(httpserver.url_for("/")).matrix(POINTS[:3], "van")


@pytest.mark.parametrize("status", [200, 400])
def test_it_raises_matrix_unavailable_when_osrm_says_the_query_is_invalid(httpserver, status):
    httpserver.expect_request(TABLE_PATH).respond_with_json(
        {"code": "InvalidQuery", "message": "Query string malformed close to position 42"},
        status=status,
    )

    with pytest.raises(MatrixUnavailable, match="InvalidQuery"):
        OsrmMatrix(httpserver.url_for("/")).matrix(POINTS[:3], "van")


@pytest.mark.parametrize(
    "body",
    [
        "this is not JSON",
        '["Ok"]',
        '{"code": "Ok", "durations": [[0, 1], [1, 0]]}',
        '{"code": "Ok", "durations": [[0, 1]], "distances": [[0, 1]]}',
        '{"code": "Ok", "durations": [[0, "1"], [1, 0]], "distances": [[0, 1], [1, 0]]}',
        '{"code": "Ok", "durations": [[0, -1], [1, 0]], "distances": [[0, 1], [1, 0]]}',
    ],
)
def test_it_raises_matrix_unavailable_on_a_malformed_answer(httpserver, body):
    httpserver.expect_request(TABLE_PATH).respond_with_data(body, content_type="application/json")

    with pytest.raises(MatrixUnavailable):
        OsrmMatrix(httpserver.url_for("/")).matrix(POINTS[:2], "van")


def test_it_raises_matrix_unavailable_when_osrm_is_too_slow(httpserver):
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return _osrm_table(request)

    httpserver.expect_request(TABLE_PATH).respond_with_handler(slow)

    # The answer comes after 0.6 s; the client gave up at 0.1 s.
    with pytest.raises(MatrixUnavailable, match="Timeout"):
        OsrmMatrix(httpserver.url_for("/"), timeout_s=0.1).matrix(POINTS[:2], "van")
    # The server is shared by the tests of this process: let the slow answer finish here,
    # or it lands in the next test's request log.
    for _ in range(100):
        if httpserver.log:
            break
        time.sleep(0.05)


def test_it_refuses_a_loopback_osrm_url_unless_private_targets_are_allowed(osrm, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    with pytest.raises(MatrixUnavailable, match="non-public") as caught:
        OsrmMatrix(osrm.url_for("/")).matrix(POINTS[:2], "van")

    assert isinstance(caught.value.__cause__, UnsafeTarget)
    assert osrm.log == []


def test_it_needs_no_request_for_fewer_than_two_points(osrm):
    assert OsrmMatrix(osrm.url_for("/")).matrix([COPENHAGEN], "van").distance_m.tolist() == [[0]]
    assert osrm.log == []


# Choosing a provider


def test_it_uses_the_great_circle_provider_by_default(settings):
    settings.ROUTING_DETOUR_FACTOR = 1.5

    provider = matrix_provider()

    assert isinstance(provider, GreatCircleMatrix)
    assert provider.detour_factor == 1.5


def test_it_uses_osrm_when_configured(settings):
    settings.ROUTING_MATRIX_PROVIDER = "osrm"
    settings.ROUTING_OSRM_URL = "https://osrm.example.com/"

    provider = matrix_provider()

    assert isinstance(provider, OsrmMatrix)
    assert provider.base_url == "https://osrm.example.com"


@pytest.mark.parametrize(("kind", "url"), [("osrm", ""), ("google", "https://x.example.com")])
def test_it_refuses_a_provider_it_cannot_build(settings, kind, url):
    settings.ROUTING_MATRIX_PROVIDER = kind
    settings.ROUTING_OSRM_URL = url

    with pytest.raises(ImproperlyConfigured):
        matrix_provider()
