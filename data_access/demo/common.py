"""The demo's fixed facts and small random helpers: the as-of date, the lines, the scales, ``Picker``."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, timedelta

from ..db import RegistryError


AS_OF = date(2026, 10, 31)
DATA_AS_OF = AS_OF.isoformat()
CURRENT_YEAR = 2026
LAST_INCOME_YEAR = 2025
PROVINCE_CODE = "520000000000"
CITY_CODE = "523100000000"
COUNTY_CODE = "523199000000"
ID_BLOCK = 10_000_000  # explicit autoincrement ids: county index * ID_BLOCK + n

POVERTY_LINES = {  # national line in current prices, domain.md §3
    2011: (2536, True), 2012: (2625, True), 2013: (2736, True), 2014: (2800, True),
    2015: (2855, True), 2016: (2952, True), 2017: (3335, False), 2018: (3535, False),
    2019: (3747, False), 2020: (4000, False),
}
MONITORING_LINES = {2021: 6000, 2022: 6200, 2023: 6500, 2024: 6800, 2025: 7000, 2026: 7200}
SOURCE_VERIFIED = "国家统计局公布的农村贫困标准现价(2010年不变价2300元)"
LINE_OF_YEAR = {y: a for y, (a, _) in POVERTY_LINES.items()} | MONITORING_LINES
# Median 年人均纯收入 of exited households by year (drives the income spread).
MEDIAN_INCOME = {
    2014: 3600, 2015: 4500, 2016: 5200, 2017: 6000, 2018: 7000, 2019: 8000, 2020: 9000,
    2021: 9800, 2022: 10600, 2023: 11400, 2024: 12200, 2025: 13000,
}


class DemoError(RegistryError):
    title = "演示数据生成失败"


@dataclass(frozen=True)
class ScaleSpec:
    name: str
    cities: int
    counties: int  # in the whole province
    towns: int  # per county
    villages: int  # per county
    households: int  # registered households per county
    lagging_towns: int
    half_extent_km: tuple[float, float]  # of the whole map
    center: tuple[float, float] = (105.0, 26.9)


SCALES = {
    "small": ScaleSpec("small", 1, 1, 3, 12, 600, 1, (10.0, 8.5)),
    "county": ScaleSpec("county", 1, 1, 20, 250, 25_000, 3, (45.0, 38.0)),
    "province": ScaleSpec("province", 8, 80, 20, 250, 25_000, 3, (290.0, 230.0), (106.6, 26.9)),
    # Not offered by the CLI: the province code path (several cities and counties, parallel load) in seconds.
    "test_province": ScaleSpec("test_province", 2, 4, 3, 12, 300, 1, (20.0, 17.0)),
}


# ---------------------------------------------------------------------------
# small helpers


class Picker:
    """Weighted choice with precomputed cumulative weights (fast, deterministic)."""

    __slots__ = ("values", "cum", "total")

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cum = []
        acc = 0.0
        for w in weights.values():
            acc += w
            self.cum.append(acc)
        self.total = acc

    def __call__(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.total)]


def seeded_rng(seed: int, *parts) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def rand_int(rng: random.Random, a: int, b: int) -> int:
    """Like ``rng.randint(a, b)``, several times faster (a different but deterministic stream)."""
    return a + int(rng.random() * (b - a + 1))


def rand_choice(rng: random.Random, seq):
    """Like ``rng.choice(seq)``, faster."""
    return seq[int(rng.random() * len(seq))]


def rand_day(rng: random.Random, start: date, end: date) -> date:
    """A random date in [start, end]."""
    span = (end - start).days
    return start + timedelta(days=rand_int(rng, 0, max(0, span)))


def rand_split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` non-negative integers summing to it."""
    if parts <= 1 or total <= 0:
        return [total] + [0] * (parts - 1) if parts > 1 else [total]
    cuts = sorted(rand_int(rng, 0, total) for _ in range(parts - 1))
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(parts)]
