"""Fictional map geometry for the demo data: a tiling of jittered hexagons.

Villages are cells of a hexagon grid whose corners are jittered and whose edges
carry two jittered intermediate points. Every corner and intermediate point is
created once and shared by the cells on both sides, so the cells tile the plane
without gaps or overlaps. Townships (and counties, cities) are contiguous groups
of cells; their outline is made of the cell edges that occur only once in the
group, so it encloses exactly its cells. Pure Python, deterministic for a given
``random.Random``. Ring area and centroid are ``data_access.geometry``'s.

Coordinates are built in kilometres and projected to lon/lat with a local
equirectangular projection; every vertex is rounded once (6 decimals), so
shared vertices are bit-identical in every polygon that uses them.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from dataclasses import dataclass, field

from ..geometry import centroid, signed_area

SQRT3 = math.sqrt(3.0)
KM_PER_DEG_LAT = 110.57


@dataclass
class Tiling:
    """Cells of a jittered hexagon grid (only the selected ones are kept)."""

    lonlat: list[tuple[float, float]]  # vertex id -> (lon, lat)
    rings: list[list[int]]  # cell -> vertex ids, counter-clockwise, not closed
    centers: list[tuple[float, float]]  # cell -> (x, y) km of the grid centre
    neighbours: list[list[int]] = field(default_factory=list)  # cell -> adjacent cells


def make_tiling(
    rng: random.Random,
    n_cells: int,
    center: tuple[float, float],
    half_extent_km: tuple[float, float],
    fill: float = 0.85,
) -> Tiling:
    """About ``n_cells`` connected, hole-free hexagon cells forming a blob.

    The blob is roughly an ellipse with the given half extents (km) around
    ``center`` (lon, lat), with a wavy outline.
    """
    a, b = half_extent_km
    area = math.pi * a * b * fill
    size = math.sqrt(area / n_cells / (1.5 * SQRT3))  # circumradius of a hexagon
    cols = int(2 * a * 1.5 / (SQRT3 * size)) + 4
    rows = int(2 * b * 1.5 / (1.5 * size)) + 4
    x0 = -(cols - 1) * SQRT3 * size / 2
    y0 = -(rows - 1) * 1.5 * size / 2

    grid_centers = []
    for r in range(rows):
        for c in range(cols):
            grid_centers.append((x0 + SQRT3 * size * (c + 0.5 * (r & 1)), y0 + 1.5 * size * r))

    # Wavy ellipse: rank cells by a noisy normalised radius and keep the n nearest.
    harmonics = [(k, rng.uniform(0.03, 0.10) / k ** 0.5, rng.uniform(0, 2 * math.pi)) for k in range(2, 7)]

    def radius(x, y):
        theta = math.atan2(y / b, x / a)
        wobble = 1.0 + sum(amp * math.cos(k * theta + ph) for k, amp, ph in harmonics)
        return math.hypot(x / a, y / b) / wobble

    order = sorted(range(len(grid_centers)), key=lambda i: (radius(*grid_centers[i]), i))
    chosen = set(order[:n_cells])

    def grid_neighbours(i):
        r, c = divmod(i, cols)
        if r & 1:
            cand = [(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1), (r + 1, c), (r + 1, c + 1)]
        else:
            cand = [(r, c - 1), (r, c + 1), (r - 1, c - 1), (r - 1, c), (r + 1, c - 1), (r + 1, c)]
        return [rr * cols + cc for rr, cc in cand if 0 <= rr < rows and 0 <= cc < cols]

    # Keep the largest connected component, then fill holes (cells not reachable from the border).
    chosen = _largest_component(sorted(chosen), grid_neighbours)
    outside = set()
    stack = [i for i in range(len(grid_centers))
             if (i // cols in (0, rows - 1) or i % cols in (0, cols - 1)) and i not in chosen]
    outside.update(stack)
    while stack:
        i = stack.pop()
        for j in grid_neighbours(i):
            if j not in chosen and j not in outside:
                outside.add(j)
                stack.append(j)
    cells = [i for i in range(len(grid_centers)) if i not in outside]
    index = {g: k for k, g in enumerate(cells)}

    # Corner vertices, shared through a key on the unjittered position.
    vkey: dict[tuple[int, int], int] = {}
    xy: list[tuple[float, float]] = []
    jitter = 0.2 * size
    corner_rings: list[list[int]] = []
    for g in cells:
        cx, cy = grid_centers[g]
        ring = []
        for k in range(6):
            ang = math.radians(30 + 60 * k)
            px, py = cx + size * math.cos(ang), cy + size * math.sin(ang)
            key = (round(px / size * 1000), round(py / size * 1000))
            vid = vkey.get(key)
            if vid is None:
                vid = len(xy)
                vkey[key] = vid
                rad, ang2 = jitter * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
                xy.append((px + rad * math.cos(ang2), py + rad * math.sin(ang2)))
            ring.append(vid)
        corner_rings.append(ring)

    # Two intermediate points per edge, shared by the two cells of the edge.
    mids: dict[tuple[int, int], list[int]] = {}
    rings: list[list[int]] = []
    for ring in corner_rings:
        full = []
        for k in range(6):
            u, v = ring[k], ring[(k + 1) % 6]
            key = (u, v) if u < v else (v, u)
            pts = mids.get(key)
            if pts is None:
                (ux, uy), (vx, vy) = xy[key[0]], xy[key[1]]
                dx, dy = vx - ux, vy - uy
                length = math.hypot(dx, dy) or 1.0
                nx, ny = -dy / length, dx / length
                pts = []
                for t in (1 / 3, 2 / 3):
                    off = rng.uniform(-0.1, 0.1) * size
                    pts.append(len(xy))
                    xy.append((ux + dx * t + nx * off, uy + dy * t + ny * off))
                mids[key] = pts
            full.append(u)
            full.extend(pts if u < v else pts[::-1])
        rings.append(full)

    lon0, lat0 = center
    km_per_deg_lon = 111.32 * math.cos(math.radians(lat0))
    lonlat = [(round(lon0 + x / km_per_deg_lon, 6), round(lat0 + y / KM_PER_DEG_LAT, 6)) for x, y in xy]

    neighbours = [[index[j] for j in grid_neighbours(g) if j in index] for g in cells]
    return Tiling(lonlat=lonlat, rings=rings, centers=[grid_centers[g] for g in cells], neighbours=neighbours)


def _largest_component(cells, neighbours) -> set:
    members = set(cells)
    seen: set = set()
    best: set = set()
    for start in cells:
        if start in seen:
            continue
        comp = {start}
        stack = [start]
        while stack:
            i = stack.pop()
            for j in neighbours(i):
                if j in members and j not in comp:
                    comp.add(j)
                    stack.append(j)
        seen |= comp
        if len(comp) > len(best):
            best = comp
    return best


def partition(
    rng: random.Random,
    tiling: Tiling,
    cells: list[int],
    weights: list[float],
) -> list[list[int]]:
    """Split a connected, hole-free set of cells into contiguous groups.

    Group ``i`` gets about ``len(cells) * weights[i] / sum(weights)`` cells.
    Groups are hole-free within the parent: a group that ends up enclosed by
    another is merged into it, so fewer groups than weights may come back
    (the caller may retry with another draw). Groups are returned in the order
    of their seeds; cells inside a group are sorted.
    """
    k = len(weights)
    members = set(cells)
    if k <= 1 or len(cells) <= k:
        return [sorted(cells)] if k <= 1 else [[c] for c in sorted(cells)][:k]
    centers = tiling.centers
    # Seeds: farthest-point sampling from a random start.
    seeds = [cells[rng.randrange(len(cells))]]
    dist = {c: _d2(centers[c], centers[seeds[0]]) for c in cells}
    while len(seeds) < k:
        far = max(cells, key=lambda c: (dist[c] * rng.uniform(0.8, 1.0), -c))
        seeds.append(far)
        for c in cells:
            d = _d2(centers[c], centers[far])
            if d < dist[c]:
                dist[c] = d
    total_w = sum(weights)
    targets = [max(1.0, len(cells) * w / total_w) for w in weights]
    owner: dict[int, int] = {}
    sizes = [0] * k
    frontiers: list[list] = [[] for _ in range(k)]

    def push_neighbours(g, c):
        sx, sy = centers[seeds[g]]
        for n in tiling.neighbours[c]:
            if n in members and n not in owner:
                heapq.heappush(frontiers[g], (_d2(centers[n], (sx, sy)) * rng.uniform(0.7, 1.3), n))

    for g, s in enumerate(seeds):
        owner[s] = g
        sizes[g] = 1
    for g, s in enumerate(seeds):
        push_neighbours(g, s)
    active = [(sizes[g] / targets[g], g) for g in range(k)]
    heapq.heapify(active)
    while active:
        _, g = heapq.heappop(active)
        fr = frontiers[g]
        while fr and fr[0][1] in owner:
            heapq.heappop(fr)
        if not fr:
            continue
        _, c = heapq.heappop(fr)
        owner[c] = g
        sizes[g] += 1
        push_neighbours(g, c)
        heapq.heappush(active, (sizes[g] / targets[g], g))

    groups = [[c for c in cells if owner.get(c) == g] for g in range(k)]
    # Fill holes: cells of other groups enclosed by a group join it.
    parent_border = [c for c in cells if len(tiling.neighbours[c]) < 6
                     or any(n not in members for n in tiling.neighbours[c])]
    for g in range(k):
        mine = set(groups[g])
        if not mine:
            continue
        reach = set()
        stack = [c for c in parent_border if c not in mine]
        reach.update(stack)
        while stack:
            c = stack.pop()
            for n in tiling.neighbours[c]:
                if n in members and n not in mine and n not in reach:
                    reach.add(n)
                    stack.append(n)
        enclosed = [c for c in cells if c not in mine and c not in reach]
        if enclosed:
            for c in enclosed:
                groups[owner[c]].remove(c)
                owner[c] = g
            groups[g] = sorted(mine | set(enclosed))
    return [grp for grp in groups if grp]


def _d2(p, q):
    return (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2


def outline(tiling: Tiling, cells: list[int]) -> list[list[int]]:
    """Rings (vertex ids, not closed) of the union of ``cells``: outer ring(s) CCW, holes CW."""
    seg: dict[tuple[int, int], None] = {}
    for c in cells:
        ring = tiling.rings[c]
        n = len(ring)
        for i in range(n):
            u, v = ring[i], ring[(i + 1) % n]
            if (v, u) in seg:
                del seg[(v, u)]
            else:
                seg[(u, v)] = None
    nxt = {}
    for u, v in seg:
        nxt[u] = v
    rings = []
    for start in list(nxt):
        if start not in nxt:
            continue
        ring = [start]
        v = nxt.pop(start)
        while v != start:
            ring.append(v)
            v = nxt.pop(v)
        rings.append(ring)
    return rings


def ring_coords(tiling: Tiling, ring: list[int]) -> list[list[float]]:
    pts = [list(tiling.lonlat[v]) for v in ring]
    pts.append(pts[0])
    return pts


def geometry_of(tiling: Tiling, cells: list[int]) -> tuple[str, tuple[float, float]]:
    """GeoJSON text of the union of ``cells`` and its centroid (lon, lat).

    One outer ring gives a Polygon (with holes if any); several outer rings a MultiPolygon.
    """
    rings = [ring_coords(tiling, r) for r in outline(tiling, cells)]
    outers = [r for r in rings if signed_area(r) > 0]
    holes = [r for r in rings if signed_area(r) <= 0]
    outers.sort(key=lambda r: -signed_area(r))
    if len(outers) == 1:
        geom = {"type": "Polygon", "coordinates": [outers[0]] + holes}
    else:  # does not happen for the hole-free groups made by partition(); kept general
        geom = {"type": "MultiPolygon", "coordinates": [[r] for r in outers]}
    return json.dumps(geom, separators=(",", ":")), centroid(outers[0])
