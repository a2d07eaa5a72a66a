"""The demo's places: cities, counties, townships and villages on the hexagon tiling (``demo.geo``), with
their codes, names and populations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import geo, names
from .common import COUNTY_CODE, DemoError, ScaleSpec, seeded_rng


# ---------------------------------------------------------------------------
# places


@dataclass
class Village:
    code: str
    name: str
    cell: int
    rural_population: int = 0
    is_poor: bool = False
    exit_year: int | None = None
    lon: float = 0.0
    lat: float = 0.0
    geometry: str | None = None


@dataclass
class Town:
    code: str
    name: str
    cells: list[int]
    lagging: bool = False
    villages: list[Village] = field(default_factory=list)
    lon: float = 0.0
    lat: float = 0.0
    geometry: str | None = None


@dataclass
class County:
    index: int
    code: str
    name: str
    city_code: str
    city_name: str
    cells: list[int]
    towns: list[Town] = field(default_factory=list)
    lon: float = 0.0
    lat: float = 0.0
    geometry: str | None = None

    @property
    def prefix(self) -> str:
        return self.code[:6]

    @property
    def short(self) -> str:
        return self.name[:-1]


@dataclass
class City:
    code: str
    name: str
    cells: list[int]
    counties: list[County] = field(default_factory=list)
    lon: float = 0.0
    lat: float = 0.0
    geometry: str | None = None


def _partition_exact(rng, tiling, cells, weights):
    """partition() retried until it returns as many groups as weights."""
    for _ in range(50):
        groups = geo.partition(rng, tiling, cells, weights)
        if len(groups) == len(weights):
            return groups
    raise DemoError("无法划分演示区划(请换一个随机种子)")


def _order_by_position(tiling, groups):
    """Groups ordered north-west first (by the mean centre of their cells)."""
    def key(g):
        xs = [tiling.centers[c][0] for c in g]
        ys = [tiling.centers[c][1] for c in g]
        return (-round(sum(ys) / len(ys) / 5), sum(xs) / len(xs))
    return sorted(groups, key=key)


@dataclass
class Places:
    tiling: geo.Tiling
    cities: list[City]
    geometry: str | None  # the province outline (province scale only)
    lon: float
    lat: float


def build_places(seed: int, spec: ScaleSpec) -> Places:
    """The region tree with polygons, populations and poor-village flags."""
    rng = seeded_rng(seed, "places", spec.name)
    n_cells = spec.counties * spec.villages
    tiling = geo.make_tiling(rng, n_cells, spec.center, spec.half_extent_km)
    all_cells = list(range(len(tiling.rings)))

    if spec.cities == 1:
        city_groups = [all_cells]
    else:
        per_city = [spec.counties // spec.cities + (1 if i < spec.counties % spec.cities else 0)
                    for i in range(spec.cities)]
        city_groups = _order_by_position(tiling, _partition_exact(rng, tiling, all_cells, per_city))
    other_counties = iter(names.county_names(rng, spec.counties + 40))
    cities = []
    county_index = 0
    for ci, cells in enumerate(city_groups):
        code = f"52{31 + ci:02d}00000000"
        city = City(code, names.CITY_NAMES[ci], cells)
        n_counties = 1 if spec.cities == 1 else max(1, round(len(cells) / spec.villages))
        groups = [cells] if n_counties == 1 else _order_by_position(
            tiling, _partition_exact(rng, tiling, cells, [rng.uniform(0.8, 1.2) for _ in range(n_counties)]))
        main_k = max(range(len(groups)), key=lambda k: (_compactness(tiling, groups[k]), -k)) if ci == 0 else -1
        number = 0
        for k, ccells in enumerate(groups):
            if k == main_k:  # 云岭县: the largest county of the first city
                ccode, cname = COUNTY_CODE, names.COUNTY_NAME
            else:
                number += 1
                ccode, cname = f"{code[:4]}{number:02d}000000", next(other_counties)
            city.counties.append(County(county_index, ccode, cname, code, city.name, ccells))
            county_index += 1
        cities.append(city)

    for city in cities:
        for county in city.counties:
            _build_county(rng, tiling, county, spec)
        city.geometry, (city.lon, city.lat) = geo.geometry_of(tiling, city.cells)
    if spec.cities > 1:
        geometry, (lon, lat) = geo.geometry_of(tiling, all_cells)
    else:
        geometry, lon, lat = None, cities[0].lon, cities[0].lat
    return Places(tiling, cities, geometry, lon, lat)


def _compactness(tiling, cells) -> float:
    """Cells per squared radius (largest distance of a cell centre from the mean centre)."""
    xs = [tiling.centers[c][0] for c in cells]
    ys = [tiling.centers[c][1] for c in cells]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    r2 = max((x - mx) ** 2 + (y - my) ** 2 for x, y in zip(xs, ys)) or 1.0
    return len(cells) / r2


def _build_county(rng, tiling, county: County, spec: ScaleSpec) -> None:
    n_towns = min(spec.towns, max(1, len(county.cells) // 4))
    weights = [rng.uniform(0.6, 1.4) for _ in range(n_towns)]
    groups = _order_by_position(tiling, _partition_exact(rng, tiling, county.cells, weights))
    zhen = [True] + [rng.random() < 0.6 for _ in groups[1:]]
    used: set[str] = set()
    n_zhen = n_xiang = 0
    for g, is_zhen in zip(groups, zhen):
        if is_zhen:
            n_zhen += 1
            code = f"{county.prefix}{100 + n_zhen:03d}000"
        else:
            n_xiang += 1
            code = f"{county.prefix}{200 + n_xiang:03d}000"
        town = Town(code, names.place_stem(rng, used) + ("镇" if is_zhen else "乡"), g)
        town.geometry, (town.lon, town.lat) = geo.geometry_of(tiling, g)
        vused: set[str] = set()
        vcells = _order_by_position(tiling, [[c] for c in g])
        for i, (cell,) in enumerate(vcells):
            v = Village(f"{code[:9]}{201 + i:03d}", names.place_stem(rng, vused) + "村", cell)
            v.geometry, (v.lon, v.lat) = geo.geometry_of(tiling, [cell])
            v.rural_population = int(min(5200, max(520, rng.lognormvariate(math.log(1750), 0.35))))
            town.villages.append(v)
        county.towns.append(town)
    county.towns.sort(key=lambda t: t.code)
    for t in rng.sample(county.towns, min(spec.lagging_towns, len(county.towns))):
        t.lagging = True
    villages = [v for t in county.towns for v in t.villages]
    n_poor = max(1, round(0.3 * len(villages)))
    for v in rng.sample(villages, n_poor):
        v.is_poor = True
    county.geometry, (county.lon, county.lat) = geo.geometry_of(tiling, county.cells)
