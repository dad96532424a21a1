"""The job's map and timeline as SVG drawn by the page itself: no tiles, no network."""

from __future__ import annotations

import math
from html import escape

COLOURS = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
]  # fmt: skip
WIDTH, HEIGHT, PAD = 720, 480, 24


def _projector(points: list[tuple[float, float]]):
    """Equirectangular, scaled by the cosine of the mean latitude, fitted to the box."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    squeeze = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * squeeze, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)

    def project(lat: float, lon: float) -> tuple[float, float]:
        x = PAD + (lon - min(lons)) * squeeze * scale
        y = HEIGHT - PAD - (lat - min(lats)) * scale
        return round(x, 1), round(y, 1)

    return project


def route_map_svg(
    depots: list[tuple[float, float]],
    routes: list[dict],
    unscheduled: list[tuple[float, float]],
) -> str:
    """``routes``: dicts with ``label`` and ``stops``, a list of (lat, lon, label)."""
    points = depots + [(s[0], s[1]) for r in routes for s in r["stops"]] + unscheduled
    if not points:
        return ""
    project = _projector(points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" class="waybill-map" role="img" '
        'aria-label="Map of the routes">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f7f7f4" stroke="#ccc"/>',
    ]
    depot = depots[0] if depots else None
    for index, route in enumerate(routes):
        colour = COLOURS[index % len(COLOURS)]
        path = [depot] if depot else []
        path += [(s[0], s[1]) for s in route["stops"]]
        path += [depot] if depot else []
        coords = " ".join(f"{x},{y}" for x, y in (project(*p) for p in path))
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-opacity="0.8"><title>{escape(route["label"])}</title></polyline>'
        )
        for lat, lon, label in route["stops"]:
            x, y = project(lat, lon)
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="4" fill="{colour}">'
                f"<title>{escape(label)}</title></circle>"
            )
    for lat, lon in unscheduled:
        x, y = project(lat, lon)
        parts.append(
            f'<path d="M{x - 4},{y - 4}L{x + 4},{y + 4}M{x - 4},{y + 4}L{x + 4},{y - 4}" '
            'stroke="#555" stroke-width="2"><title>left out</title></path>'
        )
    for lat, lon in depots:
        x, y = project(lat, lon)
        parts.append(
            f'<rect x="{x - 6}" y="{y - 6}" width="12" height="12" fill="#000">'
            "<title>depot</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _clock(seconds: int) -> str:
    return f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}"


def timeline_svg(routes: list[dict]) -> str:
    """``routes``: dicts with ``label``, ``start_s``, ``end_s`` and ``stops`` (seconds)."""
    if not routes:
        return ""
    row, label_w, width = 22, 140, 720
    first = min(r["start_s"] for r in routes)
    last = max(r["end_s"] for r in routes)
    span = max(last - first, 1)
    height = row * len(routes) + 30

    def x(seconds: int) -> float:
        return round(label_w + (seconds - first) / span * (width - label_w - 10), 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="waybill-timeline" role="img" '
        'aria-label="Timeline of the routes">'
    ]
    hour = (first // 3600 + 1) * 3600
    while hour < last:
        parts.append(
            f'<line x1="{x(hour)}" y1="0" x2="{x(hour)}" y2="{height - 20}" stroke="#ddd"/>'
            f'<text x="{x(hour)}" y="{height - 6}" font-size="10" text-anchor="middle">'
            f"{_clock(hour)}</text>"
        )
        hour += 3600
    for index, route in enumerate(routes):
        colour = COLOURS[index % len(COLOURS)]
        top = index * row + 4
        parts.append(
            f'<text x="0" y="{top + 12}" font-size="11">{escape(route["label"])}</text>'
            f'<rect x="{x(route["start_s"])}" y="{top}" '
            f'width="{max(x(route["end_s"]) - x(route["start_s"]), 1)}" height="14" '
            f'fill="{colour}" fill-opacity="0.25" stroke="{colour}">'
            f"<title>{_clock(route['start_s'])}–{_clock(route['end_s'])}</title></rect>"
        )
        for start, label in route["stops"]:
            parts.append(
                f'<line x1="{x(start)}" y1="{top}" x2="{x(start)}" y2="{top + 14}" '
                f'stroke="{colour}" stroke-width="2"><title>{escape(label)} '
                f"{_clock(start)}</title></line>"
            )
    parts.append("</svg>")
    return "".join(parts)
