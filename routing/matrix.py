"""Travel-time and distance matrices for route optimisation.

A provider turns an ordered list of points into square matrices of whole metres and seconds,
the integers the solver works in. ``GreatCircleMatrix`` needs no service and is the default;
``OsrmMatrix`` asks an OSRM table service for road figures; ``PlanarMatrix`` serves the
Solomon VRPTW benchmark instances, whose points are plain (x, y).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.outbound import UnsafeTarget, check_public_url, outbound_session

EARTH_RADIUS_M = 6_371_008.8  # the IUGG mean radius
# Large enough that no solver takes an unreachable leg to save time, small enough that a route
# summing thousands of them still fits in int64.
UNREACHABLE = 10**9

DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "bike": 15,
    "cargo-bike": 15,
    "car": 40,
    "van": 35,
    "truck": 30,
}
DEFAULT_OSRM_PROFILES: dict[str, str] = {"bike": "bike", "cargo-bike": "bike"}
OSRM_FALLBACK_PROFILE = "driving"


class MatrixUnavailable(Exception):
    """The matrix service could not give a usable answer; a caller may fall back to another."""


# eq=False: the fields are arrays, which have no single truth value, so the generated field-wise
# __eq__ would raise; compare with np.array_equal instead.
@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Whole metres and seconds from point i (row) to point j (column)."""

    distance_m: np.ndarray
    duration_s: np.ndarray

    def __post_init__(self) -> None:
        for name in ("distance_m", "duration_s"):
            array = getattr(self, name)
            if not (
                isinstance(array, np.ndarray)
                and array.dtype == np.int64
                and array.ndim == 2
                and array.shape[0] == array.shape[1]
            ):
                raise ValueError(f"{name} must be a square int64 numpy array.")
        if self.distance_m.shape != self.duration_s.shape:
            raise ValueError("distance_m and duration_s must have the same shape.")


class MatrixProvider(Protocol):
    def matrix(self, points: Sequence[tuple[float, float]], vehicle_type: str) -> TravelMatrix:
        """Matrices between ``points``, (latitude, longitude) in degrees, in the given order."""
        ...


def _as_array(points: Sequence[tuple[float, float]]) -> np.ndarray:
    if len(points) == 0:
        return np.empty((0, 2), dtype=np.float64)
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError("points must be a sequence of coordinate pairs.")
    if not np.isfinite(array).all():
        raise ValueError("points must be finite numbers.")
    return array


def _rounded(values: np.ndarray) -> np.ndarray:
    # np.rint rounds halves to even; the half-metre or half-second never matters here.
    return np.rint(values).astype(np.int64)


class GreatCircleMatrix:
    """Straight-line (haversine) distance stretched by a detour factor, at a speed per vehicle.

    No network and no data: good enough to plan with when no road service is configured.
    """

    def __init__(
        self,
        detour_factor: float = 1.3,
        speeds_kmh: dict[str, float] | None = None,
        default_speed_kmh: float = 35,
    ) -> None:
        self.detour_factor = float(detour_factor)
        self.speeds_kmh = dict(DEFAULT_SPEEDS_KMH if speeds_kmh is None else speeds_kmh)
        self.default_speed_kmh = float(default_speed_kmh)
        if self.detour_factor <= 0:
            raise ValueError("detour_factor must be positive.")
        if self.default_speed_kmh <= 0 or any(speed <= 0 for speed in self.speeds_kmh.values()):
            raise ValueError("Speeds must be positive.")

    def speed_kmh(self, vehicle_type: str) -> float:
        return float(self.speeds_kmh.get(vehicle_type, self.default_speed_kmh))

    def matrix(self, points: Sequence[tuple[float, float]], vehicle_type: str) -> TravelMatrix:
        radians = np.radians(_as_array(points))
        lat, lon = radians[:, 0], radians[:, 1]
        # Absolute differences make cell (i, j) bit-for-bit the same computation as (j, i), so
        # the matrix is exactly symmetric whatever the sine implementation does with signs.
        half_dlat = np.abs(np.subtract.outer(lat, lat)) / 2
        half_dlon = np.abs(np.subtract.outer(lon, lon)) / 2
        cos_lat = np.cos(lat)
        h = np.sin(half_dlat) ** 2 + np.outer(cos_lat, cos_lat) * np.sin(half_dlon) ** 2
        # Rounding can push h a hair above 1 for antipodal points, outside arcsin's domain.
        np.clip(h, 0.0, 1.0, out=h)
        distance = 2 * EARTH_RADIUS_M * self.detour_factor * np.arcsin(np.sqrt(h))
        duration = distance / (self.speed_kmh(vehicle_type) / 3.6)
        return TravelMatrix(distance_m=_rounded(distance), duration_s=_rounded(duration))


class PlanarMatrix:
    """Euclidean distance between planar points, for the Solomon VRPTW benchmark instances.

    Here a point is (x, y), not (latitude, longitude). Travel time equals distance (one unit
    per time unit), as in the literature. Both are multiplied by ``scale`` before rounding to
    the nearest integer, so ``scale=10`` keeps the one decimal that some published results use.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = float(scale)
        if self.scale <= 0:
            raise ValueError("scale must be positive.")

    def matrix(self, points: Sequence[tuple[float, float]], vehicle_type: str) -> TravelMatrix:
        xy = _as_array(points)
        dx = np.subtract.outer(xy[:, 0], xy[:, 0])
        dy = np.subtract.outer(xy[:, 1], xy[:, 1])
        distance = _rounded(np.hypot(dx, dy) * self.scale)
        return TravelMatrix(distance_m=distance, duration_s=distance.copy())


class OsrmMatrix:
    """Road distances and durations from an OSRM-compatible ``table`` service.

    Vehicle types map to OSRM profiles through ``profiles``; a type not listed there uses
    ``"driving"``. A table larger than ``max_table_size`` coordinates (OSRM's own default limit
    is 100) is fetched in blocks of sources × destinations and assembled. Pairs OSRM cannot
    route between get ``UNREACHABLE`` in both matrices.
    """

    def __init__(
        self,
        base_url: str,
        profiles: dict[str, str] | None = None,
        timeout_s: float = 30,
        max_table_size: int = 100,
    ) -> None:
        if max_table_size < 2:
            raise ValueError("max_table_size must be at least 2 (one source, one destination).")
        self.base_url = base_url.rstrip("/")
        self.profiles = dict(DEFAULT_OSRM_PROFILES if profiles is None else profiles)
        self.timeout_s = timeout_s
        self.max_table_size = max_table_size
        self._session = outbound_session()
        self._session.headers["Accept"] = "application/json"

    def profile(self, vehicle_type: str) -> str:
        return self.profiles.get(vehicle_type, OSRM_FALLBACK_PROFILE)

    def matrix(self, points: Sequence[tuple[float, float]], vehicle_type: str) -> TravelMatrix:
        coords = _as_array(points)
        n = len(coords)
        distance = np.zeros((n, n), dtype=np.float64)
        duration = np.zeros((n, n), dtype=np.float64)
        if n < 2:
            return TravelMatrix(distance_m=_rounded(distance), duration_s=_rounded(duration))

        prefix = f"{self.base_url}/table/v1/{self.profile(vehicle_type)}/"
        try:
            # Every block goes to the same host, so one check covers the whole matrix.
            check_public_url(prefix)
        except UnsafeTarget as exc:
            raise MatrixUnavailable(f"Refusing to call the OSRM service: {exc}") from exc

        if n <= self.max_table_size:
            blocks = [(range(n), range(n))]
        else:
            # A request carries its sources and its destinations, so each side gets half.
            source_size = (self.max_table_size + 1) // 2
            destination_size = self.max_table_size // 2
            blocks = [
                (range(s, min(s + source_size, n)), range(d, min(d + destination_size, n)))
                for s in range(0, n, source_size)
                for d in range(0, n, destination_size)
            ]
        for sources, destinations in blocks:
            if len(sources) == 1 and sources == destinations:
                continue  # a point to itself; the diagonal is zero below anyway
            block_duration, block_distance = self._block(prefix, coords, sources, destinations)
            rows = slice(sources.start, sources.stop)
            columns = slice(destinations.start, destinations.stop)
            duration[rows, columns] = block_duration
            distance[rows, columns] = block_distance

        unreachable = np.isnan(duration) | np.isnan(distance)
        distance_m = _rounded(np.where(unreachable, 0, distance))
        duration_s = _rounded(np.where(unreachable, 0, duration))
        distance_m[unreachable] = UNREACHABLE
        duration_s[unreachable] = UNREACHABLE
        # Staying put costs nothing, even where OSRM snaps a point onto no road at all.
        np.fill_diagonal(distance_m, 0)
        np.fill_diagonal(duration_s, 0)
        return TravelMatrix(distance_m=distance_m, duration_s=duration_s)

    def _block(
        self, prefix: str, coords: np.ndarray, sources: range, destinations: range
    ) -> tuple[np.ndarray, np.ndarray]:
        """Durations and distances (NaN where unroutable) from ``sources`` to ``destinations``."""
        whole = sources == destinations
        indices = list(sources) + ([] if whole else [d for d in destinations if d not in sources])
        # OSRM wants longitude first.
        path = ";".join(f"{coords[i, 1]:.6f},{coords[i, 0]:.6f}" for i in indices)
        query = "annotations=distance,duration"
        if not whole:
            position = {index: p for p, index in enumerate(indices)}
            query += "&sources=" + ";".join(str(position[i]) for i in sources)
            query += "&destinations=" + ";".join(str(position[i]) for i in destinations)
        # The query is built by hand so the ';' separators reach OSRM literally.
        url = f"{prefix}{path}?{query}"
        try:
            response = self._session.get(url, timeout=self.timeout_s, allow_redirects=False)
        except requests.RequestException as exc:
            raise MatrixUnavailable(
                f"OSRM table request failed: {type(exc).__name__}: {exc}"
            ) from exc
        except UnsafeTarget as exc:
            # The host now resolves elsewhere than when the matrix was checked.
            raise MatrixUnavailable(f"Refusing to call the OSRM service: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            detail = _osrm_error(body) if isinstance(body, dict) else response.text[:200]
            raise MatrixUnavailable(f"OSRM answered HTTP {response.status_code}: {detail}")
        if not isinstance(body, dict):
            raise MatrixUnavailable("OSRM answered something other than a JSON object.")
        if body.get("code") != "Ok":
            raise MatrixUnavailable(f"OSRM answered {_osrm_error(body)}")
        shape = (len(sources), len(destinations))
        return _table(body, "durations", shape), _table(body, "distances", shape)


def _osrm_error(body: dict[str, Any]) -> str:
    return f"{body.get('code')!r}: {body.get('message', '')}".strip()


def _cell(value: Any) -> float:
    if value is None:
        return math.nan
    # bool is an int to Python but never a distance.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MatrixUnavailable(f"OSRM answered {value!r} where a number belongs.")
    return value


def _table(body: dict[str, Any], key: str, shape: tuple[int, int]) -> np.ndarray:
    rows = body.get(key)
    if (
        not isinstance(rows, list)
        or len(rows) != shape[0]
        or any(not isinstance(row, list) or len(row) != shape[1] for row in rows)
    ):
        raise MatrixUnavailable(f"OSRM's {key!r} is missing or not {shape[0]}×{shape[1]}.")
    table = np.array([[_cell(value) for value in row] for row in rows], dtype=np.float64)
    if np.isinf(table).any() or (table < 0).any():
        raise MatrixUnavailable(f"OSRM's {key!r} holds infinite or negative values.")
    return table


def matrix_provider() -> MatrixProvider:
    """The provider the settings choose: ``ROUTING_MATRIX_PROVIDER`` and its options."""
    kind = settings.ROUTING_MATRIX_PROVIDER
    if kind == "great-circle":
        return GreatCircleMatrix(detour_factor=settings.ROUTING_DETOUR_FACTOR)
    if kind == "osrm":
        if not settings.ROUTING_OSRM_URL:
            raise ImproperlyConfigured(
                "ROUTING_MATRIX_PROVIDER is 'osrm' but ROUTING_OSRM_URL is empty."
            )
        return OsrmMatrix(settings.ROUTING_OSRM_URL)
    raise ImproperlyConfigured(
        f"ROUTING_MATRIX_PROVIDER must be 'great-circle' or 'osrm', not {kind!r}."
    )


def travel_matrices(
    points: Sequence[tuple[float, float]], vehicle_types: set[str]
) -> dict[str, TravelMatrix]:
    """One matrix per vehicle type over ``points``, from the configured provider (an HTTP
    call for OSRM: the routing service makes it, never a selector)."""
    provider = matrix_provider()
    return {kind: provider.matrix(points, kind) for kind in vehicle_types}
