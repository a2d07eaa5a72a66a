"""Rings and GeoJSON polygons: the one place for their area, centre, winding and parsing. No streamlit.

A ring is a closed list of [lon, lat] points (first point repeated last); a polygon is a list of
rings (outer first, then holes); a region's geometry is stored as GeoJSON Polygon/MultiPolygon text.
Used by the demo tiling (``demo.geo``), the boundary loader (``boundaries``), the slide map
(``report.charts``) and the page map (``components.charts.maps``).
"""

from __future__ import annotations

import json
import math


def signed_area(ring) -> float:
    """Shoelace area of a closed ring (positive when counter-clockwise)."""
    s = 0.0
    for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:]):
        s += x1 * y2 - x2 * y1
    return s / 2.0


def centroid(ring) -> tuple[float, float]:
    """Area centroid of a closed ring (lon, lat), 6 decimals; its first point when the area is 0."""
    a = cx = cy = 0.0
    for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:]):
        cross = x1 * y2 - x2 * y1
        a += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if a == 0:
        return ring[0][0], ring[0][1]
    return round(cx / (3 * a), 6), round(cy / (3 * a), 6)


def rings_of(geometry_text) -> list:
    """Polygons (each a list of rings) of a GeoJSON Polygon/MultiPolygon text; [] when absent or bad."""
    if not geometry_text or not isinstance(geometry_text, str):
        return []
    try:
        geom = json.loads(geometry_text)
    except ValueError:
        return []
    if not isinstance(geom, dict):
        return []
    if geom.get("type") == "Polygon":
        return [geom.get("coordinates") or []]
    if geom.get("type") == "MultiPolygon":
        return list(geom.get("coordinates") or [])
    return []


def wound(ring, clockwise: bool) -> list:
    """The ring turning clockwise (or counter-clockwise), reversed if need be."""
    return list(ring) if (signed_area(ring) < 0) == clockwise else list(ring)[::-1]


def d3_geometry(polys) -> dict:
    """GeoJSON for Vega: d3-geo is spherical and wants outer rings clockwise and holes
    counter-clockwise (the reverse of RFC 7946), else a polygon fills the rest of the globe."""
    fixed = [[wound(r, clockwise=(i == 0)) for i, r in enumerate(poly)] for poly in polys]
    return {"type": "Polygon", "coordinates": fixed[0]} if len(fixed) == 1 else \
        {"type": "MultiPolygon", "coordinates": fixed}


def disc(lon: float, lat: float, radius_deg: float, sides: int = 16, digits: int | None = None) -> dict:
    """A small polygon (clockwise, for d3-geo) standing for a place that has no boundary, drawn at its
    centre; ``digits``: round the points (the page map keeps 6 decimals, the slide map none)."""
    k = 1 / max(math.cos(math.radians(lat)), 0.2)
    ring = [[lon + radius_deg * k * math.cos(2 * math.pi * i / sides),
             lat + radius_deg * math.sin(2 * math.pi * i / sides)] for i in range(sides)]
    if digits is not None:
        ring = [[round(x, digits), round(y, digits)] for x, y in ring]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring[::-1]]}
