"""Demo data: a fictional county (or province) of the poverty-alleviation registry.

``generate(engine, scale="county", seed=1)`` drops every table of
``schema.metadata``, recreates them and fills them with a deterministic,
internally consistent fictional registry:

- 黔山省 (520000000000) → 青岚市 (523100000000) → 云岭县 (523199000000), with
  townships (镇 101…, 乡 201…) and villages (村委会 2xx) whose polygons tile the
  county (see ``data_access.demo.geo``). At ``province`` scale ~80 counties under
  several cities, 云岭县 being one of them.
- 建档立卡 households and persons (valid, unique ID numbers), yearly income,
  poverty and monitoring lines, exit targets, help units/cadres/assignments/
  visits, help measures, monitoring objects, funds → projects → arrangements →
  money flows → beneficiaries.

Everything is drawn from ``random.Random`` instances seeded from ``seed`` and
the county code only, so the same seed and scale give the same database.
The figures are consistent with each other (member_count = person rows, town
population = sum of its villages, spent ≤ paid ≤ arranged ≤ allocated...),
except for this SMALL, DELIBERATE set of data problems that the
consistency-check page is meant to find (all in 云岭县, at every scale):

1. Exactly 2 projects have no place: ``region_code``, ``town_code`` and
   ``village_code`` are NULL (``county_code`` is set). They have arrangements
   and money flows but no ``project_beneficiary`` rows.
2. Exactly 1 project has more 支出 than 拨付: one of its arrangements carries
   an extra 支出 movement, so its spending exceeds its payments (per project and
   per arrangement). Normally a 2026 project in 在建 status (small scale may
   fall back to another 2026 project). ``generate`` returns both lists under
   ``problems``: ``{"no_place": [id, id], "spent_over_paid": [id]}``.

Other things the pages are meant to show are realistic, not errors: a few
C/D-grade houses among exited households, a handful of compulsory-age children
out of school, a few people without medical insurance, lagging townships
(later exits, fewer visits, slower spending), projects finished late or overdue.

Same seed and scale give identical table contents on SQLite and PostgreSQL,
except ``meta.data_version``, which ``db.bump_data_version`` sets from the
clock by design (it is part of the app's cache keys).

Income rows exist for 建档立卡 households only (from their identified_year
through 2025; the as-of year 2026 has none). Visits cover 2024-01-01 to the
as-of date 2026-10-31. Autoincrement ids are assigned explicitly
(county index × 10,000,000 + n), so they are deterministic too.

Scales (``SCALES``): ``small`` (3 townships, 12 villages, ~600 households; for
tests), ``county`` (~20 townships, ~250 villages, ~25,000 registered households,
~90,000 persons), ``province`` (82 such counties under 8 cities, PostgreSQL
only) and ``test_province`` (4 tiny counties, 2 cities: the province code path
in seconds, not offered by the CLI). At small/county scale the city and
province rows have no geometry (their lon/lat are the county's); at province
scale every level has one. Measured on a shared 2-CPU machine: small ~0.5 s,
county ~16 s and ~200 MB on SQLite (≈17 s of CPU).

``progress``, if given, is called as ``progress(fraction: float, message: str)`` (data_access.progress).
"""

from __future__ import annotations

import bisect
import math
import os
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import BigInteger, Date, Integer, text
from sqlalchemy.engine import Engine

from .. import codes, db, schema
from ..progress import Progress, reporter
from ..rules import id_check_char
from ..summary.refresh import refresh as refresh_summaries
from . import geo, names
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


def _rng(seed: int, *parts) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _ri(rng: random.Random, a: int, b: int) -> int:
    """Like ``rng.randint(a, b)``, several times faster (a different but deterministic stream)."""
    return a + int(rng.random() * (b - a + 1))


def _ch(rng: random.Random, seq):
    """Like ``rng.choice(seq)``, faster."""
    return seq[int(rng.random() * len(seq))]


def _day(rng: random.Random, start: date, end: date) -> date:
    """A random date in [start, end]."""
    span = (end - start).days
    return start + timedelta(days=_ri(rng, 0, max(0, span)))


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` non-negative integers summing to it."""
    if parts <= 1 or total <= 0:
        return [total] + [0] * (parts - 1) if parts > 1 else [total]
    cuts = sorted(_ri(rng, 0, total) for _ in range(parts - 1))
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(parts)]


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
    rng = _rng(seed, "places", spec.name)
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


# ---------------------------------------------------------------------------
# distributions

ATTRIBUTE = Picker({"一般贫困户": 75, "低保贫困户": 18, "特困供养贫困户": 7})
STANDARD = Picker({"国家标准": 88, "省定标准": 10, "市定标准": 2})
MAIN_CAUSE = Picker({
    "因病": 28, "缺资金": 18, "缺技术": 14, "缺劳力": 12, "因残": 8, "自身发展动力不足": 6, "因学": 5,
    "交通条件落后": 3, "因灾": 2, "缺土地": 2, "缺水": 1, "其他": 1,
})
OTHER_CAUSES = [c for c in codes.CAUSES if c not in ("因婚", "因丧")]
IDENTIFIED = Picker({2014: 80, 2015: 9, 2016: 7, 2017: 2, 2018: 1.3, 2019: 0.7})
EXIT_NORMAL = Picker({2015: 6, 2016: 14, 2017: 22, 2018: 26, 2019: 22, 2020: 10})
EXIT_LAGGING = Picker({2015: 2, 2016: 7, 2017: 13, 2018: 22, 2019: 29, 2020: 27})
VILLAGE_EXIT_NORMAL = Picker({2016: 15, 2017: 25, 2018: 30, 2019: 22, 2020: 8})
VILLAGE_EXIT_LAGGING = Picker({2016: 5, 2017: 15, 2018: 25, 2019: 30, 2020: 25})
HH_SIZE = Picker({1: 11, 2: 18, 3: 21, 4: 21, 5: 15, 6: 8, 7: 4, 8: 2})
HOUSE_EXITED = Picker({"安全": 55, "A": 28, "B": 16.7, "C": 0.2, "D": 0.1})
HOUSE_POOR = Picker({"安全": 30, "A": 30, "B": 30, "C": 7, "D": 3})
HOUSE_MONITORING = Picker({"安全": 40, "A": 35, "B": 22, "C": 2, "D": 1})
ETHNICITY = Picker(dict(zip(names.ETHNICITIES, names.ETHNICITY_WEIGHTS)))
EDU_OLD = Picker({"文盲或半文盲": 45, "小学": 45, "初中": 10})
EDU_MID = Picker({"文盲或半文盲": 15, "小学": 45, "初中": 35, "高中": 5})
EDU_YOUNG = Picker({"小学": 20, "初中": 55, "高中": 18, "大专及以上": 7})
EDU_YOUNGEST = Picker({"初中": 40, "高中": 35, "大专及以上": 25})
HEALTH_YOUNG = Picker({"健康": 94, "长期慢性病": 2, "患有大病": 1, "残疾": 3})
HEALTH_MID = Picker({"健康": 82, "长期慢性病": 9, "患有大病": 3, "残疾": 6})
HEALTH_OLD = Picker({"健康": 60, "长期慢性病": 25, "患有大病": 6, "残疾": 9})
WORK_ABLE = Picker({"省外务工": 35, "县外省内务工": 15, "乡(镇)外县内务工": 12, "乡(镇)内务工": 10, "未外出务工": 28})
MON_YEAR = Picker({2021: 30, 2022: 22, 2023: 17, 2024: 13, 2025: 11, 2026: 7})
MON_RISK = Picker({
    "因病": 30, "因残": 10, "因学": 6, "因灾": 8, "因意外事故": 8, "因产业项目失败": 5, "因务工就业不稳": 12,
    "缺劳动力": 10, "住房安全问题": 4, "饮水安全问题": 2, "其他": 5,
})
MON_RISK_SUDDEN = Picker({"因灾": 35, "因意外事故": 30, "因病": 30, "其他": 5})
VISIT_KIND = Picker({"入户走访": 75, "电话联系": 18, "政策宣讲": 7})
VISIT_NOTES = {
    "入户走访": ("了解家庭收入与务工情况", "核实两不愁三保障情况", "宣传产业帮扶政策", "查看住房与饮水安全",
             "了解家庭成员健康状况", "协助办理医保缴费", "核对家庭人口变化"),
    "电话联系": ("电话了解务工收入", "电话提醒医保缴费", "电话回访帮扶措施落实"),
    "政策宣讲": ("宣讲防返贫监测政策", "宣讲教育资助政策", "宣讲小额信贷政策"),
}
FUND_SHARES = {
    "中央财政专项扶贫资金": (0.12, 3), "省级财政专项扶贫资金": (0.06, 2), "市级财政专项扶贫资金": (0.02, 1),
    "县级财政专项扶贫资金": (0.03, 1), "统筹整合财政涉农资金": (0.33, 3), "东西部扶贫协作资金": (0.025, 1),
    "定点帮扶资金": (0.01, 1), "社会帮扶资金": (0.01, 1), "金融扶贫资金": (0.385, 2),
}
FUND_TOTAL_YI = {  # county-scale yearly total, 亿元
    2015: 3.2, 2016: 4.0, 2017: 4.8, 2018: 5.6, 2019: 5.8, 2020: 5.2, 2021: 4.2, 2022: 3.9,
    2023: 3.7, 2024: 3.5, 2025: 3.3, 2026: 3.1,
}
PROJECTS_PER_YEAR = {
    2015: 180, 2016: 220, 2017: 270, 2018: 290, 2019: 280, 2020: 240, 2021: 190, 2022: 180,
    2023: 170, 2024: 165, 2025: 160, 2026: 155,
}
# Stream order: funds are consumed by projects sorted in the matching category order.
FUND_ORDER = ("金融扶贫资金", "社会帮扶资金", "定点帮扶资金", "东西部扶贫协作资金", "中央财政专项扶贫资金",
              "省级财政专项扶贫资金", "市级财政专项扶贫资金", "县级财政专项扶贫资金", "统筹整合财政涉农资金")
CATEGORY_ORDER = ("金融扶贫", "产业发展", "就业扶贫", "公益岗位", "教育扶贫", "健康扶贫", "其他", "危房改造",
                  "易地扶贫搬迁", "人居环境", "农村基础设施")
SUBCATEGORIES = {
    "产业发展": ("种植业", "养殖业", "农产品加工", "乡村旅游", "光伏扶贫", "冷链物流"),
    "农村基础设施": ("通组道路", "安全饮水", "农网改造", "通信网络", "产业路", "小型水利"),
    "人居环境": ("厕所改造", "垃圾治理", "污水治理", "村庄亮化"),
    "就业扶贫": ("扶贫车间", "劳务输出", "技能培训"),
    "易地扶贫搬迁": ("安置点建设", "配套设施", "后续扶持"),
    "教育扶贫": ("雨露计划", "学校改造", "学生资助"),
    "健康扶贫": ("村卫生室", "医疗救助", "家庭医生签约"),
    "危房改造": ("危房改造", "老旧住房整治"),
    "金融扶贫": ("小额信贷贴息", "风险补偿金", "产业基金"),
    "公益岗位": ("生态护林员", "村保洁员", "护路员"),
    "其他": ("村集体经济", "项目管理费"),
}
HOUSEHOLD_TARGETED = {"产业发展", "危房改造", "易地扶贫搬迁", "金融扶贫", "教育扶贫", "健康扶贫", "公益岗位", "就业扶贫"}
STATUS_BY_YEAR = {
    "old": Picker({"报账": 85, "验收": 12, "完工": 3}),
    2024: Picker({"报账": 65, "验收": 25, "完工": 8, "在建": 2}),
    2025: Picker({"报账": 30, "验收": 35, "完工": 20, "在建": 15}),
    2026: Picker({"计划": 25, "在建": 50, "完工": 20, "验收": 5}),
    "2025lag": Picker({"报账": 15, "验收": 25, "完工": 25, "在建": 35}),
    "2026lag": Picker({"计划": 40, "在建": 50, "完工": 10}),
}


# ---------------------------------------------------------------------------
# writers


class SqlWriter:
    """Batched ``INSERT`` through SQLAlchemy (any backend)."""

    def __init__(self, conn, chunk: int = 10_000):
        self.conn = conn
        self.chunk = chunk
        self.rows: dict[str, int] = {}

    def write(self, table, rows) -> None:
        cols = [c.name for c in table.columns]
        batch = []
        n = 0
        for r in rows:
            batch.append(dict(zip(cols, r)))
            if len(batch) >= self.chunk:
                self.conn.execute(table.insert(), batch)
                n += len(batch)
                batch = []
        if batch:
            self.conn.execute(table.insert(), batch)
            n += len(batch)
        self.rows[table.name] = self.rows.get(table.name, 0) + n


class SqliteWriter(SqlWriter):
    """SQLite: plain ``executemany`` of tuples (10x faster than dict parameters).

    Values are stored exactly as SQLAlchemy's SQLite types store them: dates as
    ISO text, booleans as 0/1.
    """

    def write(self, table, rows) -> None:
        cols = [c.name for c in table.columns]
        dates = [i for i, c in enumerate(table.columns) if isinstance(c.type, Date)]
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        cur = self.conn.connection.dbapi_connection.cursor()
        batch = []
        n = 0
        for r in rows:
            if dates:
                r = list(r)
                for i in dates:
                    if r[i] is not None:
                        r[i] = r[i].isoformat()
            batch.append(r)
            if len(batch) >= self.chunk:
                cur.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
            n += len(batch)
        cur.close()
        self.rows[table.name] = self.rows.get(table.name, 0) + n


class CopyWriter(SqlWriter):
    """PostgreSQL ``COPY … FROM STDIN`` through psycopg 3, inside the caller's transaction."""

    def __init__(self, conn):
        super().__init__(conn)
        self.raw = conn.connection.dbapi_connection

    def write(self, table, rows) -> None:
        cols = [c.name for c in table.columns]
        n = 0
        with self.raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)
                n += 1
        self.rows[table.name] = self.rows.get(table.name, 0) + n


# ---------------------------------------------------------------------------
# one county


class HH:
    __slots__ = (
        "hh_id", "town", "village", "kind", "attribute", "standard", "main_cause", "others", "id_year",
        "exit_year", "returned_year", "status", "policy", "exit_step", "relocated", "reloc_year", "reloc_site",
        "house", "water", "food", "phone", "members", "head_name", "group", "n_labour", "n_migrant",
        "students", "sick", "disabled", "z", "below_years", "helper",
    )


class CountyGenerator:
    """Generates and writes every fact table of one county."""

    def __init__(self, seed: int, county: County, hh_total: int, main: bool, shared_units: list[tuple],
                 single_county: bool = True):
        self.seed = seed
        self.county = county
        self.hh_total = hh_total
        self.scale = hh_total / 25_000
        self.main = main
        self.shared_units = shared_units
        self.single_county = single_county
        self.id_base = county.index * ID_BLOCK
        self.households: list[HH] = []
        self.by_village: dict[str, list[HH]] = {}
        self.villages = {v.code: v for t in county.towns for v in t.villages}
        self.town_of = {v.code: t for t in county.towns for v in t.villages}
        self.problems: dict[str, list[str]] = {}

    def rng(self, part: str) -> random.Random:
        return _rng(self.seed, self.county.code, part)

    def run(self, w: SqlWriter) -> None:
        self.make_households(w)
        self.make_monitoring(w)
        self.make_income(w)
        self.make_measures(w)
        self.make_help(w)
        self.make_money(w)
        self.make_targets(w)

    # -- households and persons ------------------------------------------------

    def make_households(self, w: SqlWriter) -> None:
        rng = self.rng("households")
        county = self.county
        villages = [v for t in county.towns for v in t.villages]
        for t in county.towns:
            picker = VILLAGE_EXIT_LAGGING if t.lagging else VILLAGE_EXIT_NORMAL
            for v in t.villages:
                if v.is_poor:
                    v.exit_year = picker(rng)
        # registered households per village ~ rural population x incidence
        weights = [v.rural_population * (0.32 if v.is_poor else 0.15) * rng.uniform(0.8, 1.2) / 3.6 for v in villages]
        counts = _apportion(self.hh_total, weights)
        n_monitoring = round(0.03 * self.hh_total * 0.45)
        mon_counts = _apportion(n_monitoring, [v.rural_population for v in villages])
        sites = [f"{county.short}县城北新区安置点", f"{county.short}县城东安置点"] + \
            [f"{t.name}集镇安置点" for t in county.towns[:3]]
        used_ids: set[int] = set()
        hh_rows, cause_rows, person_rows = [], [], []
        for v, n_reg, n_mon in zip(villages, counts, mon_counts):
            town = self.town_of[v.code]
            n_groups = _ri(rng, 4, 12)
            lst = self.by_village.setdefault(v.code, [])
            for i in range(n_reg + n_mon):
                h = HH()
                h.hh_id = f"{v.code}{i + 1:04d}"
                h.town, h.village = town, v
                h.group = f"{_ri(rng, 1, n_groups)}组"
                h.helper = None
                h.below_years = ()
                h.z = rng.gauss(0, 1)
                if i < n_reg:
                    self._registered(rng, h, town, v, sites)
                else:
                    self._monitoring_household(rng, h)
                self._members(rng, h, person_rows, used_ids)
                lst.append(h)
                self.households.append(h)
                hh_rows.append(self._hh_row(h))
                for c in h.others:
                    cause_rows.append((h.hh_id, c))
        self._village_exit_years(villages)
        w.write(schema.household, hh_rows)
        w.write(schema.other_cause, cause_rows)
        w.write(schema.person, person_rows)

    def _registered(self, rng, h: HH, town: Town, v: Village, sites) -> None:
        h.kind = codes.HOUSEHOLD_KIND_REGISTERED
        h.attribute = ATTRIBUTE(rng)
        h.standard = STANDARD(rng)
        h.main_cause = MAIN_CAUSE(rng)
        n_other = _ch(rng, (0, 0, 1, 1, 1, 2))
        h.others = tuple(rng.sample([c for c in OTHER_CAUSES if c != h.main_cause], n_other))
        h.id_year = IDENTIFIED(rng)
        never = rng.random() < (0.005 if town.lagging else 0.0022)
        if never:
            h.exit_year = None
        else:
            picker = EXIT_LAGGING if town.lagging else EXIT_NORMAL
            ey = picker(rng)
            if v.is_poor and v.exit_year and rng.random() < 0.96:
                ey = min(ey, v.exit_year)
            h.exit_year = min(2020, max(ey, h.id_year + 1))
        h.returned_year = None
        if h.exit_year and rng.random() < 0.005:
            h.returned_year = _ri(rng, max(2017, h.exit_year + 1), 2023)
        if h.exit_year is None:
            h.status, h.policy = codes.STATUS_NOT_EXITED, None
            h.exit_step = _ch(rng, codes.EXIT_STEPS[:-1]) if rng.random() < 0.7 else None
        elif h.returned_year is not None:
            h.status, h.policy = codes.STATUS_RETURNED, None
            h.exit_step = _ch(rng, codes.EXIT_STEPS[:2]) if rng.random() < 0.4 else None
        else:
            h.status = codes.STATUS_EXITED
            h.policy = codes.POST2020_POLICY[0] if rng.random() < 0.75 else codes.POST2020_POLICY[1]
            h.exit_step = codes.EXIT_STEPS[-1]
        h.relocated = rng.random() < (0.105 if v.is_poor else 0.055)
        if h.relocated:
            h.reloc_year = _ri(rng, 2016, max(2016, min(2019, h.exit_year or 2019)))
            h.reloc_site = _ch(rng, sites)
        else:
            h.reloc_year = h.reloc_site = None
        exited = h.status == codes.STATUS_EXITED
        h.house = "安全" if h.relocated else (HOUSE_EXITED if exited else HOUSE_POOR)(rng)
        h.water = rng.random() < (0.995 if exited else 0.97)
        h.food = rng.random() < (0.9995 if exited else 0.99)
        h.phone = names.phone(rng)

    def _monitoring_household(self, rng, h: HH) -> None:
        h.kind = codes.HOUSEHOLD_KIND_MONITORING
        h.attribute = h.standard = h.main_cause = None
        h.others = ()
        h.id_year = h.exit_year = h.returned_year = None
        h.status = h.policy = h.exit_step = None
        h.relocated, h.reloc_year, h.reloc_site = False, None, None
        h.house = HOUSE_MONITORING(rng)
        h.water = rng.random() < 0.97
        h.food = rng.random() < 0.995
        h.phone = names.phone(rng)

    def _hh_row(self, h: HH) -> tuple:
        return (
            h.hh_id, self.county.code, h.town.code, h.village.code, h.group, h.head_name, h.members, h.kind,
            h.attribute, h.standard, h.main_cause, h.id_year, h.exit_year, h.returned_year, h.status, h.policy,
            h.exit_step, h.relocated, h.reloc_year, h.reloc_site, h.house, h.water, h.food, h.phone,
        )

    def _members(self, rng, h: HH, rows: list, used_ids: set) -> None:
        size = HH_SIZE(rng)
        if h.main_cause == "缺劳力":
            head_age = _ri(rng, 58, 86)
        elif size == 1:
            head_age = int(rng.triangular(30, 92, 70))
        else:
            head_age = int(rng.triangular(24, 86, 50))
        head_sex = "男" if rng.random() < 0.85 else "女"
        members = [("户主", head_sex, head_age)]
        if size > 1 and rng.random() < (0.88 if head_age < 75 else 0.6):
            if head_sex == "男":
                members.append(("配偶", "女", min(95, max(19, head_age + _ri(rng, -6, 3)))))
            else:
                members.append(("配偶", "男", min(95, max(20, head_age + _ri(rng, -3, 6)))))
        if len(members) < size - 1 and head_age < 45 and rng.random() < 0.3:
            rel, sex = ("之母", "女") if rng.random() < 0.6 else ("之父", "男")
            members.append((rel, sex, min(95, head_age + _ri(rng, 22, 32))))
        son_age = None
        has_dil = False
        while len(members) < size:
            r = rng.random()
            children = [m for m in members if m[0] in ("之子", "之女")]
            if head_age >= 52 and son_age and son_age >= 20 and not has_dil and r < 0.5:
                members.append(("之儿媳", "女", max(18, son_age + _ri(rng, -4, 2))))
                has_dil = True
            elif head_age >= 50 and children and r < 0.75:
                sex = "男" if rng.random() < 0.52 else "女"
                members.append(("之孙子" if sex == "男" else "之孙女", sex, _ri(rng, 0, min(20, head_age - 44))))
            elif r > 0.985:
                members.append(("之兄弟姐妹" if r > 0.993 else "其他", "男" if rng.random() < 0.5 else "女",
                                max(0, head_age + _ri(rng, -10, 10))))
            else:
                sex = "男" if rng.random() < 0.52 else "女"
                age = _ri(rng, max(0, head_age - 42), max(0, head_age - 20))
                members.append(("之子" if sex == "男" else "之女", sex, age))
                if sex == "男" and (son_age is None or age > son_age):
                    son_age = age
        h.members = len(members)
        surname = _ch(rng, names.SURNAMES)
        eth = ETHNICITY(rng)
        # health forced by the main cause
        forced = {}
        adults = [i for i, m in enumerate(members) if m[2] >= 16] or [0]
        if h.main_cause == "因病":
            forced[_ch(rng, adults)] = "患有大病" if rng.random() < 0.5 else "长期慢性病"
        elif h.main_cause == "因残":
            forced[_ch(rng, adults)] = "残疾"
        n_labour = n_migrant = students = sick = disabled = 0
        head_name = ""
        for i, (rel, sex, age) in enumerate(members):
            if rel in ("户主", "之子", "之女", "之孙子", "之孙女") and (rel != "户主" or sex == "男"):
                name = names.person_name(rng, sex, surname)
            else:
                name = names.person_name(rng, sex)
            if i == 0:
                head_name = name
            by = CURRENT_YEAR - age
            last = date(by, 12, 31) if by < CURRENT_YEAR else AS_OF
            bd = _day(rng, date(by, 1, 1), last)
            ethnicity = eth if (rel != "配偶" and rel != "之儿媳") or rng.random() < 0.8 else ETHNICITY(rng)
            # schooling and education
            schooling = "非在校生"
            if 3 <= age <= 5:
                schooling = "学前教育" if rng.random() < 0.85 else "非在校生"
            elif 6 <= age <= 15:
                if rng.random() < 0.0007:
                    schooling = "非在校生"
                elif age <= 11:
                    schooling = "小学"
                elif age <= 14:
                    schooling = ("七年级", "八年级", "九年级")[age - 12]
                else:
                    schooling = _ch(rng, ("高中一年级", "高中一年级", "中职一年级", "九年级"))
            elif 16 <= age <= 17 and rng.random() < 0.7:
                k = age - 15
                schooling = ("高中" if rng.random() < 0.65 else "中职") + ("一", "二", "三")[k] + "年级"
            elif 18 <= age <= 21 and rng.random() < 0.25:
                schooling = "大专及以上" if rng.random() < 0.5 else "高职" + ("一", "二", "三")[min(2, age - 18)] + "年级"
            if age < 6:
                education = "学龄前儿童"
            elif schooling != "非在校生" and age <= 21:
                education = ("小学" if schooling == "小学" else "初中" if schooling.endswith(("七年级", "八年级", "九年级"))
                             else "大专及以上" if schooling.startswith(("高职", "大专")) else "高中")
            elif age < 16:
                education = "小学"
            else:
                education = (EDU_OLD if by < 1960 else EDU_MID if by < 1980 else EDU_YOUNG if by < 2000
                             else EDU_YOUNGEST)(rng)
            if schooling not in ("非在校生", "学前教育"):
                students += 1
            health = forced.get(i) or (HEALTH_YOUNG if age < 40 else HEALTH_MID if age < 65 else HEALTH_OLD)(rng)
            sick += health in ("长期慢性病", "患有大病")
            disabled += health == "残疾"
            # labour
            if age < 16 or (schooling != "非在校生" and age < 23):
                skill = "无劳动力"
            elif age >= 70:
                skill = "无劳动力" if rng.random() < 0.7 else "丧失劳动力"
            elif health == "患有大病":
                skill = "丧失劳动力" if rng.random() < 0.5 else "弱劳动力或半劳动力"
            elif health == "残疾":
                r = rng.random()
                skill = "丧失劳动力" if r < 0.4 else "弱劳动力或半劳动力" if r < 0.8 else "普通劳动力"
            elif health == "长期慢性病":
                skill = "弱劳动力或半劳动力" if rng.random() < 0.6 else "普通劳动力"
            elif age >= 65:
                r = rng.random()
                skill = "弱劳动力或半劳动力" if r < 0.6 else "普通劳动力" if r < 0.8 else "丧失劳动力"
            else:
                r = rng.random()
                skill = "普通劳动力" if r < 0.75 else "技能劳动力" if r < 0.95 else "弱劳动力或半劳动力"
            if skill in ("普通劳动力", "技能劳动力"):
                n_labour += 1
                work = WORK_ABLE(rng)
            elif skill == "弱劳动力或半劳动力":
                work = "乡(镇)内务工" if rng.random() < 0.2 else "未外出务工"
            else:
                work = "未外出务工"
            if work == "未外出务工":
                months = 0
            else:
                n_migrant += 1
                months = _ri(rng, 3, 10) if work == "乡(镇)内务工" else _ri(rng, 6, 12)
            med = rng.random() >= 0.0008
            serious = med and rng.random() < 0.995
            sex_parity = 1 if sex == "男" else 0
            ordinal = bd.toordinal()
            while True:
                seq = int(rng.random() * 500) * 2 + sex_parity
                key = ordinal * 1000 + seq
                if key not in used_ids:
                    used_ids.add(key)
                    break
            body = f"{self.county.prefix}{bd:%Y%m%d}{seq:03d}"
            idn = body + id_check_char(body)
            ph = h.phone if i == 0 else (names.phone(rng) if age >= 18 and rng.random() < 0.3 else None)
            rows.append((
                f"{h.hh_id}{i + 1:02d}", h.hh_id, h.village.code, name, idn, rel, sex, ethnicity, bd, by,
                education, schooling, health, skill, work, months, med, serious, ph,
            ))
        h.head_name = head_name
        h.n_labour, h.n_migrant, h.students, h.sick, h.disabled = n_labour, n_migrant, students, sick, disabled

    def _village_exit_years(self, villages: list[Village]) -> None:
        """A poor village 出列 when its remaining poor are under 3 % of its population."""
        for v in villages:
            if not v.is_poor:
                continue
            hhs = [h for h in self.by_village[v.code] if h.kind == codes.HOUSEHOLD_KIND_REGISTERED]
            year = v.exit_year
            while year < 2020:
                poor = sum(h.members for h in hhs if h.id_year <= year and (
                    h.exit_year is None or h.exit_year > year or (h.returned_year and h.returned_year <= year)))
                if poor < 0.03 * v.rural_population:
                    break
                year += 1
            v.exit_year = year

    # -- monitoring --------------------------------------------------------------

    def make_monitoring(self, w: SqlWriter) -> None:
        rng = self.rng("monitoring")
        reg = [h for h in self.households if h.kind == codes.HOUSEHOLD_KIND_REGISTERED]
        mon = [h for h in self.households if h.kind == codes.HOUSEHOLD_KIND_MONITORING]
        n_obj = round(0.03 * len(reg))
        n_unstable = max(1, n_obj - len(mon)) if mon else n_obj
        candidates = [h for h in reg if h.status == codes.STATUS_EXITED]
        weights = [(2.0 if h.main_cause in ("因病", "因残") else 1.0) * (1.5 if h.town.lagging else 1.0)
                   for h in candidates]
        unstable = _weighted_sample(rng, candidates, weights, min(n_unstable, len(candidates)))
        n_sudden = round(len(mon) * 10 / 45)
        rows = []
        objs = [(h, "脱贫不稳定户") for h in unstable] + \
            [(h, "突发严重困难户" if i < n_sudden else "边缘易致贫户") for i, h in enumerate(mon)]
        objs.sort(key=lambda o: o[0].hh_id)
        for n, (h, kind) in enumerate(objs, 1):
            year = MON_YEAR(rng)
            ident = _day(rng, date(year, 1, 1), min(date(year, 12, 31), AS_OF - timedelta(days=7)))
            removed = None
            if rng.random() < 0.75:
                r = ident + timedelta(days=_ri(rng, 90, 540))
                removed = r if r <= AS_OF else None
            risk = MON_RISK_SUDDEN(rng) if kind == "突发严重困难户" else MON_RISK(rng)
            if kind == "脱贫不稳定户":
                end = (removed.year - 1) if removed else LAST_INCOME_YEAR
                h.below_years = tuple(range(ident.year, max(ident.year, end) + 1))
            rows.append((self.id_base + n, h.hh_id, h.village.code, kind, risk, ident, removed, h.members))
        w.write(schema.monitoring_object, rows)

    # -- income ------------------------------------------------------------------

    def make_income(self, w: SqlWriter) -> None:
        w.write(schema.income, self._income_rows(self.rng("income")))

    def _income_rows(self, rng):
        for h in self.households:
            if h.kind != codes.HOUSEHOLD_KIND_REGISTERED:
                continue
            m = h.members
            for y in range(h.id_year, LAST_INCOME_YEAR + 1):
                line = LINE_OF_YEAR[y]
                poor = (h.exit_year is None or y < h.exit_year) or (h.returned_year and y >= h.returned_year)
                if poor:
                    pcn = line * rng.uniform(0.45, 0.97)
                elif y in h.below_years:
                    pcn = line * rng.uniform(0.8, 0.99)
                elif rng.random() < 0.03:
                    pcn = line * rng.uniform(1.005, 1.095)
                else:
                    floor = 1.1 * line
                    pcn = floor + (MEDIAN_INCOME[y] - floor) * math.exp(0.7 * (0.8 * h.z + 0.6 * rng.gauss(0, 1)))
                    pcn = min(pcn, 8 * line)
                net = round(pcn * m)
                s_w = rng.uniform(0.45, 0.75) if h.n_migrant else rng.uniform(0.05, 0.25)
                s_t = {"低保贫困户": rng.uniform(0.3, 0.55), "特困供养贫困户": rng.uniform(0.6, 0.9)}.get(
                    h.attribute, rng.uniform(0.08, 0.25))
                s_p = rng.uniform(0.0, 0.05)
                total = s_w + s_t + s_p
                if total > 0.95:
                    s_w, s_t, s_p = (s * 0.95 / total for s in (s_w, s_t, s_p))
                wage, transfer, prop = round(net * s_w), round(net * s_t), round(net * s_p)
                nb = net - wage - transfer - prop
                if nb >= 0:
                    bi = round(nb / (1 - rng.uniform(0.2, 0.45)))
                    bc = bi - nb
                else:
                    bi, bc = 0, -nb
                excluded = _ri(rng, 200, 3000) if rng.random() < 0.5 else 0
                pc = (wage + bi - bc + prop + transfer) / m
                yield (h.hh_id, y, m, wage, bi, bc, prop, transfer, excluded, pc)

    # -- help measures -------------------------------------------------------------

    def make_measures(self, w: SqlWriter) -> None:
        w.write(schema.help_measure, self._measure_rows(self.rng("measures")))

    def _measure_rows(self, rng):
        n = self.id_base
        base = {"产业帮扶": 3.0, "就业帮扶": 2.0, "公益岗位": 0.7, "技能培训": 1.0, "资产收益分红": 1.0,
                "生态护林员": 0.4, "健康帮扶": 0.6, "教育帮扶": 0.3, "扶贫小额信贷": 0.6}
        count_poor = Picker({1: 25, 2: 45, 3: 30})
        count_exited = Picker({1: 65, 2: 30, 3: 5})
        for h in self.households:
            if h.kind != codes.HOUSEHOLD_KIND_REGISTERED:
                continue
            wts = dict(base)
            if h.main_cause == "因病" or h.sick:
                wts["健康帮扶"] += 4
            if h.main_cause == "因学" or h.students:
                wts["教育帮扶"] += 3
            if h.main_cause == "缺资金":
                wts["扶贫小额信贷"] += 3
            if h.main_cause == "缺技术":
                wts["技能培训"] += 3
            if h.main_cause == "缺劳力" or h.n_labour == 0:
                wts["公益岗位"] += 1.5
                wts["就业帮扶"] = 0.3
            picker = Picker(wts)
            for y in range(max(2015, h.id_year), LAST_INCOME_YEAR + 1):
                poor = h.exit_year is None or y < h.exit_year or (h.returned_year and y >= h.returned_year)
                k = (count_poor if poor else count_exited)(rng)
                chosen: list[str] = []
                if h.attribute == "低保贫困户":
                    chosen.append("低保兜底")
                elif h.attribute == "特困供养贫困户":
                    chosen.append("特困供养")
                if h.relocated and y == h.reloc_year:
                    chosen.append("易地扶贫搬迁")
                if poor and h.house in codes.DANGEROUS_HOUSE_GRADES and y == max(2015, h.id_year) + 1:
                    chosen.append("危房改造")
                guard = 0
                while len(chosen) < k and guard < 20:
                    guard += 1
                    mm = picker(rng)
                    if mm not in chosen:
                        chosen.append(mm)
                for mm in chosen:
                    n += 1
                    yield (n, h.hh_id, h.village.code, y, mm, self._measure_amount(rng, mm, h))

    @staticmethod
    def _measure_amount(rng, measure: str, h: HH):
        m = h.members
        if measure == "产业帮扶":
            return _ri(rng, 10, 80) * 100
        if measure == "就业帮扶":
            return _ri(rng, 5, 20) * 100 if rng.random() < 0.6 else None
        if measure == "公益岗位":
            return _ri(rng, 50, 80) * 120
        if measure == "教育帮扶":
            return _ri(rng, 10, 50) * 100
        if measure == "健康帮扶":
            return _ri(rng, 5, 200) * 100
        if measure == "危房改造":
            return _ri(rng, 15, 35) * 1000
        if measure == "易地扶贫搬迁":
            return 20_000 * m
        if measure == "低保兜底":
            return _ri(rng, 250, 380) * 12 * max(1, m - _ri(rng, 0, max(0, m - 1)))
        if measure == "特困供养":
            return _ri(rng, 5000, 8000)
        if measure == "扶贫小额信贷":
            return _ch(rng, (10_000, 20_000, 30_000, 50_000))
        if measure == "资产收益分红":
            return _ri(rng, 2, 10) * 100
        if measure == "生态护林员":
            return 10_000
        if measure == "技能培训":
            return _ri(rng, 5, 15) * 100 if rng.random() < 0.5 else None
        return None

    # -- help units, cadres, assignments, visits -----------------------------------

    def make_help(self, w: SqlWriter) -> None:
        rng = self.rng("help")
        county = self.county
        prefix = "县" if self.single_county else county.name
        units = []
        stems = names.COUNTY_UNITS[:30 if self.scale >= 0.5 else 3]
        for k, stem in enumerate(stems, 1):
            units.append((f"U{county.prefix}{k:03d}", prefix + stem, "县级"))
        town_units = {}
        for k, t in enumerate(county.towns, 1):
            uid = f"U{county.prefix}T{k:02d}"
            town_units[t.code] = uid
            units.append((uid, f"{'' if self.single_county else county.name}{t.name}人民政府", "乡镇"))
        w.write(schema.help_unit, units)
        county_unit_ids = [u[0] for u in units if u[2] == "县级"]
        higher = [u for u in self.shared_units if u[3] in (None, county.city_code)]
        higher_ids = {lvl: [u[0] for u in higher if u[2] == lvl] for lvl in ("中央", "省级", "市级")}
        level_pick = Picker({"乡镇": 25, "县级": 55, "市级": 10, "省级": 8, "中央": 2})
        helpers, assigns, visits = [], [], []
        hn = 0
        start = date(2021, 1, 1)
        vid = self.id_base
        vstart = date(2024, 1, 1)
        for t in county.towns:
            hhs = [h for v in t.villages for h in self.by_village[v.code]]
            i = 0
            while i < len(hhs):
                size = _ri(rng, 8, 12)
                group = hhs[i:i + size]
                i += size
                hn += 1
                hid = f"H{county.prefix}{hn:05d}"
                lvl = level_pick(rng)
                pool = town_units[t.code] if lvl == "乡镇" else (higher_ids.get(lvl) or county_unit_ids)
                unit = pool if isinstance(pool, str) else _ch(rng, pool)
                sex = "男" if rng.random() < 0.6 else "女"
                helpers.append((hid, names.person_name(rng, sex), unit, t.code, names.phone(rng)))
                for h in group:
                    h.helper = hid
                    assigns.append((hid, h.hh_id, start, None, h.village.code))
                    # visits roughly quarterly; lagging townships less and less regularly
                    if t.lagging:
                        lo, hi, skip = 100, 200, 0.15
                    else:
                        lo, hi, skip = 70, 100, 0.04
                    d = vstart + timedelta(days=_ri(rng, 0, lo))
                    while d <= AS_OF:
                        if rng.random() >= skip:
                            kind = VISIT_KIND(rng)
                            vid += 1
                            visits.append((vid, hid, h.hh_id, h.village.code, d, kind, _ch(rng, VISIT_NOTES[kind])))
                        d += timedelta(days=_ri(rng, lo, hi))
        w.write(schema.helper, helpers)
        w.write(schema.assignment, assigns)
        w.write(schema.visit, visits)

    # -- funds and projects ------------------------------------------------------------

    def make_money(self, w: SqlWriter) -> None:
        rng = self.rng("money")
        county = self.county
        fund_rows, project_rows, arr_rows, flow_rows, ben_rows = [], [], [], [], []
        flow_id = self.id_base
        doc_prefix = {
            "中央财政专项扶贫资金": "财农", "省级财政专项扶贫资金": "黔山财农",
            "市级财政专项扶贫资金": county.city_name[:-1] + "财农", "县级财政专项扶贫资金": county.short + "财农",
            "统筹整合财政涉农资金": county.short + "府发", "东西部扶贫协作资金": "黔山协作办",
            "定点帮扶资金": "定点帮扶函", "社会帮扶资金": county.short + "社帮", "金融扶贫资金": county.short + "金融办",
        }
        cat_pick = {y: Picker(_category_weights(y)) for y in range(2015, CURRENT_YEAR + 1)}
        villages = [v for t in county.towns for v in t.villages]
        registered = {code: [h for h in hs if h.kind == codes.HOUSEHOLD_KIND_REGISTERED]
                      for code, hs in self.by_village.items()}
        projects_all = []
        for year in range(2015, CURRENT_YEAR + 1):
            total = FUND_TOTAL_YI[year] * 1e8 * self.scale * rng.uniform(0.92, 1.08)
            shares = {s: sh * rng.uniform(0.8, 1.2) for s, (sh, _) in FUND_SHARES.items()}
            ssum = sum(shares.values())
            funds = []  # (fund_id, source, amount, date, arranged_target)
            fk = 0
            doc_no = {}
            for source in codes.FUND_SOURCES:
                batches = FUND_SHARES[source][1] if self.scale >= 0.2 else 1
                amount = total * shares[source] / ssum
                parts = [rng.uniform(0.6, 1.4) for _ in range(batches)]
                for b, p in enumerate(parts):
                    fk += 1
                    fid = f"F{county.prefix}{year}{fk:02d}"
                    amt = int(round(amount * p / sum(parts), -3))
                    last = min(date(year, 3 * (b + 1) + 3, 28), AS_OF - timedelta(days=60))
                    d = _day(rng, date(year, 1, 10) if b == 0 else date(year, 3 * b + 1, 1), last)
                    doc_no[source] = doc_no.get(source, _ri(rng, 1, 20)) + _ri(rng, 3, 30)
                    doc = f"{doc_prefix[source]}〔{year}〕{doc_no[source]}号"
                    name = f"{year}年{source}" + (f"(第{b + 1}批)" if batches > 1 else "")
                    share = rng.uniform(0.9, 0.99) if year <= 2024 else rng.uniform(0.85, 0.97) if year == 2025 \
                        else rng.uniform(0.6, 0.9)
                    funds.append((fid, source, amt, d, int(amt * share)))
                    fund_rows.append((fid, doc, name, source, year, county.code, county.code, amt, d))
            # projects for the year, streamed against the funds
            n_proj = max(3, round(PROJECTS_PER_YEAR[year] * self.scale * rng.uniform(0.9, 1.1)))
            projs = []
            for _ in range(n_proj):
                cat = cat_pick[year](rng)
                sigma = 0.9
                mu = {"农村基础设施": 1.0, "易地扶贫搬迁": 1.4, "产业发展": 0.8, "金融扶贫": 1.2}.get(cat, 0.3)
                projs.append([cat, rng.lognormvariate(mu, sigma)])
            projs.sort(key=lambda p: (CATEGORY_ORDER.index(p[0]), -p[1]))
            funds.sort(key=lambda f: (FUND_ORDER.index(f[1]), f[0]))
            capacity = sum(f[4] for f in funds)
            wsum = sum(p[1] for p in projs)
            fi, left = 0, funds[0][4]
            acc = 0.0
            done = 0
            for pk, (cat, weight) in enumerate(projs, 1):
                acc += weight
                need = round(capacity * acc / wsum) - done  # a capped project's shortfall passes on
                parts = []
                while need > 0 and fi < len(funds) and len(parts) < 3:
                    take = min(need, left)
                    if take > 0:
                        parts.append((funds[fi], take))
                        need -= take
                        left -= take
                        done += take
                    if left <= 0:
                        fi += 1
                        left = funds[fi][4] if fi < len(funds) else 0
                projects_all.append((year, pk, cat, parts))
        # places, statuses, dates, flows
        lag_towns = {t.code for t in county.towns if t.lagging}
        for year, pk, cat, parts in projects_all:
            pid = f"P{county.prefix}{year}{pk:04d}"
            sub = _ch(rng, SUBCATEGORIES[cat])
            if rng.random() < 0.8 or cat == "农村基础设施":
                v = _ch(rng, villages)
                town = self.town_of[v.code]
                place_name, region_code, village_code = v.name, v.code, v.code
                hh_pool = [h for h in registered[v.code] if h.id_year <= year]
                rural_hh = v.rural_population / 3.6
            else:
                town = _ch(rng, county.towns)
                v = None
                place_name, region_code, village_code = town.name, town.code, None
                hh_pool = [h for vv in town.villages for h in registered[vv.code] if h.id_year <= year]
                rural_hh = sum(vv.rural_population for vv in town.villages) / 3.6
            lagging = town.code in lag_towns
            arranged = sum(a for _, a in parts)
            budget = int(round(arranged * rng.uniform(1.0, 1.15), -2)) if arranged else _ri(rng, 5, 50) * 10_000
            budget = max(budget, arranged)
            if year <= 2023:
                status = STATUS_BY_YEAR["old"](rng)
            elif year == 2024:
                status = STATUS_BY_YEAR[2024](rng)
            else:
                status = STATUS_BY_YEAR[f"{year}lag" if lagging else year](rng)
            ps = _day(rng, date(year, 3, 1), date(year, 6, 30))
            pe = ps + timedelta(days=_ri(rng, 90, 270))
            a_start = a_end = None
            if status != "计划":
                a_start = min(ps + timedelta(days=_ri(rng, -10, 40)), AS_OF - timedelta(days=30))
                if status != "在建":
                    late = rng.random() < 0.2
                    a_end = pe + timedelta(days=_ri(rng, 15, 120) if late else _ri(rng, -30, 10))
                    a_end = min(max(a_end, a_start + timedelta(days=30)), AS_OF - timedelta(days=_ri(rng, 1, 20)))
            if cat in HOUSEHOLD_TARGETED:
                households = _ri(rng, 10, 80)
            else:
                households = max(10, int(rural_hh * rng.uniform(0.2, 0.9)))
            poor_hh = min(households, max(1, int(len(hh_pool) * rng.uniform(0.3, 1.0))) if hh_pool else 0)
            persons = round(households * rng.uniform(3.2, 4.0))
            project_rows.append([
                pid, f"{place_name}{sub}项目", cat, sub, region_code, county.code, town.code, village_code, year,
                status, budget, ps, pe, a_start, a_end, households, poor_hh, persons,
            ])
            # beneficiaries
            k = min(poor_hh, len(hh_pool), 40)
            if k:
                chosen = rng.sample(hh_pool, k)
                chosen.sort(key=lambda h: h.hh_id)
                per = int(budget * rng.uniform(0.3, 0.6) / k) if cat in HOUSEHOLD_TARGETED else None
                for h in chosen:
                    ben_rows.append((pid, h.hh_id, per))
            # arrangements and flows
            year_end = min(date(year, 12, 31), AS_OF)
            for (fid, _src, _amt, fdate, _t), amount in parts:
                adate = min(fdate + timedelta(days=_ri(rng, 5, 40)), year_end - timedelta(days=20))
                arr_rows.append((fid, pid, amount, adate))
                pr, sr = _flow_ratios(rng, status)
                if lagging and year >= 2025:
                    sr *= 0.6
                paid = int(amount * pr)
                spent = int(paid * sr)
                if paid <= 0:
                    continue
                pdates = sorted(_day(rng, adate, year_end) for _ in range(_ri(rng, 1, 3)))
                for part, d in zip(_split(rng, paid, len(pdates)), pdates):
                    if part:
                        flow_id += 1
                        flow_rows.append([flow_id, fid, pid, codes.MONEY_PAID, part, d])
                if spent > 0:
                    sdates = sorted(_day(rng, pdates[0], year_end) for _ in range(_ri(rng, 1, 3)))
                    for part, d in zip(_split(rng, spent, len(sdates)), sdates):
                        if part:
                            flow_id += 1
                            flow_rows.append([flow_id, fid, pid, codes.MONEY_SPENT, part, d])
        if self.main:
            flow_id = self._inject_problems(rng, project_rows, flow_rows, ben_rows, flow_id)
        w.write(schema.fund, fund_rows)
        w.write(schema.project, project_rows)
        w.write(schema.arrangement, arr_rows)
        w.write(schema.money_flow, flow_rows)
        w.write(schema.project_beneficiary, ben_rows)

    def _inject_problems(self, rng, project_rows, flow_rows, ben_rows, flow_id) -> int:
        """The documented data problems (see the module docstring)."""
        # 1. two projects without a place (prefer old, finished ones)
        old = [p for p in project_rows if p[8] in (2019, 2023)]
        chosen = [_ch(rng, [p for p in old if p[8] == y]) for y in (2019, 2023)]
        for p in chosen:
            p[4] = p[6] = p[7] = None
        gone = {p[0] for p in chosen}
        ben_rows[:] = [b for b in ben_rows if b[0] not in gone]
        # 2. one project whose 支出 exceeds its 拨付
        paid_by_arr: dict[tuple, int] = {}
        spent_by_arr: dict[tuple, int] = {}
        for f in flow_rows:
            d = paid_by_arr if f[3] == codes.MONEY_PAID else spent_by_arr
            d[(f[1], f[2])] = d.get((f[1], f[2]), 0) + f[4]
        lag = {t.code for t in self.county.towns if t.lagging}
        with_paid = {k[1] for k in paid_by_arr}
        ok = [p for p in project_rows if p[0] in with_paid and p[0] not in gone]
        cands = ([p for p in ok if p[8] == CURRENT_YEAR and p[9] == "在建" and p[6] not in lag]
                 or [p for p in ok if p[8] == CURRENT_YEAR] or ok)
        p = _ch(rng, cands)
        key = next(k for k in paid_by_arr if k[1] == p[0])
        over = paid_by_arr[key] - spent_by_arr.get(key, 0) + int(paid_by_arr[key] * rng.uniform(0.05, 0.15)) + 1
        flow_id += 1
        flow_rows.append([flow_id, key[0], p[0], codes.MONEY_SPENT, over, AS_OF - timedelta(days=_ri(rng, 3, 20))])
        self.problems = {"no_place": sorted(gone), "spent_over_paid": [p[0]]}
        return flow_id

    # -- exit targets --------------------------------------------------------------------

    def make_targets(self, w: SqlWriter) -> None:
        rng = self.rng("targets")
        rows = []
        county_sum = {y: [0, 0, 0] for y in range(2015, 2021)}
        for t in self.county.towns:
            hhs = [h for v in t.villages for h in self.by_village[v.code] if h.kind == codes.HOUSEHOLD_KIND_REGISTERED]
            for y in range(2015, 2021):
                n = sum(1 for h in hhs if h.exit_year == y)
                p = sum(h.members for h in hhs if h.exit_year == y)
                vil = sum(1 for v in t.villages if v.is_poor and v.exit_year == y)
                f = rng.uniform(0.9, 1.1)
                tv = max(0, vil + (_ch(rng, (-1, 1)) if vil and rng.random() < 0.2 else 0))
                row = (t.code, y, round(n * f), round(p * f), tv)
                rows.append(row)
                for i in range(3):
                    county_sum[y][i] += row[2 + i]
        rows = [(self.county.code, y, *county_sum[y]) for y in range(2015, 2021)] + rows
        w.write(schema.exit_target, rows)


def _category_weights(year: int) -> dict[str, float]:
    w = {"产业发展": 30, "农村基础设施": 28, "人居环境": 7, "就业扶贫": 6, "易地扶贫搬迁": 4, "教育扶贫": 5,
         "健康扶贫": 4, "危房改造": 6, "金融扶贫": 4, "公益岗位": 3, "其他": 3}
    if year > 2020:
        w["易地扶贫搬迁"] = 1.5  # 后续扶持 only
        w["危房改造"] = 2
        w["人居环境"] = 10
    return w


def _flow_ratios(rng, status: str) -> tuple[float, float]:
    if status == "报账":
        return 1.0, 1.0
    if status == "验收":
        return rng.uniform(0.9, 1.0), rng.uniform(0.85, 1.0)
    if status == "完工":
        return rng.uniform(0.7, 1.0), rng.uniform(0.6, 1.0)
    if status == "在建":
        return rng.uniform(0.2, 0.7), rng.uniform(0.3, 0.9)
    return 0.0, 0.0


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[:rest]:
        out[i] += 1
    return out


def _weighted_sample(rng, items: list, weights: list[float], k: int) -> list:
    """k distinct items, drawn with probability proportional to weight (Efraimidis–Spirakis)."""
    keyed = [(rng.random() ** (1.0 / w), i) for i, w in enumerate(weights)]
    keyed.sort(reverse=True)
    return [items[i] for _, i in keyed[:k]]


# ---------------------------------------------------------------------------
# shared rows


def _shared_units(cities: list[City], spec: ScaleSpec) -> list[tuple]:
    """Central, provincial and city help units: (unit_id, name, level, city_code or None)."""
    units = [(f"UZ{k:03d}", n, "中央", None) for k, n in enumerate(names.CENTRAL_UNITS, 1)]
    n_prov = 8 if spec.name != "small" else 2
    units += [(f"UP{k:03d}", "省" + n, "省级", None) for k, n in enumerate(names.PROVINCE_UNITS[:n_prov], 1)]
    n_city = 12 if spec.name != "small" else 2
    for city in cities:
        prefix = "市" if spec.cities == 1 else city.name
        units += [(f"UC{city.code[2:4]}{k:03d}", prefix + n, "市级", city.code)
                  for k, n in enumerate(names.CITY_UNITS[:n_city], 1)]
    return units


def _line_rows() -> list[tuple]:
    rows = []
    for y, (amount, verified) in POVERTY_LINES.items():
        if verified:
            src = SOURCE_VERIFIED
        elif y == 2020:
            src = "约4000元"
        else:
            src = "常见引用,未核实"
        rows.append((y, codes.POVERTY_LINE, "", amount, src, verified))
    for y, amount in MONITORING_LINES.items():
        rows.append((y, codes.MONITORING_LINE, PROVINCE_CODE[:2], amount, "演示数据", False))
    return rows


def _region_rows(spec: ScaleSpec, places: Places) -> list[tuple]:
    cities = places.cities
    rows = []
    province_pop = 0
    city_rows = []
    for city in cities:
        city_pop = 0
        county_rows = []
        for county in city.counties:
            county_pop = 0
            town_rows = []
            for t in county.towns:
                pop = sum(v.rural_population for v in t.villages)
                county_pop += pop
                town_rows.append((t.code, t.name, "town", county.code, False, None, pop, t.lon, t.lat, t.geometry))
                for v in t.villages:
                    town_rows.append((v.code, v.name, "village", t.code, v.is_poor, v.exit_year if v.is_poor else None,
                                      v.rural_population, v.lon, v.lat, v.geometry))
            city_pop += county_pop
            county_rows.append((county.code, county.name, "county", city.code, False, None, county_pop,
                                county.lon, county.lat, county.geometry))
            county_rows.extend(town_rows)
        province_pop += city_pop
        single = spec.cities == 1
        city_rows.append((city.code, city.name, "city", PROVINCE_CODE, False, None, city_pop,
                          city.lon, city.lat, None if single else city.geometry))
        city_rows.extend(county_rows)
    rows.append((PROVINCE_CODE, names.PROVINCE_NAME, "province", None, False, None, province_pop,
                 places.lon, places.lat, places.geometry))
    rows.extend(city_rows)
    return rows


# ---------------------------------------------------------------------------
# entry point


def generate(engine: Engine, scale: str = "county", seed: int = 1, progress: Progress | None = None,
             workers: int | None = None) -> dict:
    """Replace the database content with a fictional demo registry.

    Drops every table of ``schema.metadata``, recreates them and fills them.
    Returns ``{"scale", "seed", "backend", "counties", "rows": {table: count},
    "problems", "seconds"}``. Raises :class:`DemoError` (Chinese message) for an
    unknown scale or the province scale on SQLite.

    On SQLite (and at small/county scale everywhere) the whole load is one
    transaction. On PostgreSQL the big tables are loaded with ``COPY`` with
    foreign keys and secondary indexes dropped and rebuilt afterwards; at
    province scale ``workers`` processes (default: up to 4, by CPU count)
    generate and load counties in parallel, one transaction per county; if
    anything fails the tables are dropped again, so no half-filled database
    is left behind.
    """
    started = time.perf_counter()
    if scale not in SCALES:
        raise DemoError(f"未知的演示数据规模:{scale}(可选 small、county、province)")
    spec = SCALES[scale]
    backend = engine.dialect.name
    if scale == "province" and backend != "postgresql":
        raise DemoError("省级规模(约200万户、700万人)只能生成到 PostgreSQL 数据库;SQLite 请使用 county 或 small 规模。")
    seed = int(seed)
    report = reporter(progress)

    report(0.0, "正在生成区划与地图")
    places = build_places(seed, spec)
    shared = _shared_units(places.cities, spec)
    counties = [c for city in places.cities for c in city.counties]
    if workers is None:
        workers = min(4, os.cpu_count() or 1) if scale == "province" else 1
    parallel = backend == "postgresql" and workers > 1 and len(counties) > 1

    report(0.05, "正在重建数据表")
    schema.metadata.drop_all(engine)
    db.create_schema(engine)
    bulk = backend == "postgresql"
    rows: dict[str, int] = {}
    problems: dict = {}

    def prepare(conn) -> list:
        foreign_keys = []
        if bulk:  # load without foreign keys and secondary indexes, then rebuild them in one pass each
            foreign_keys = _drop_foreign_keys(conn)
            _drop_secondary_indexes(conn)
        writer = _writer(conn)
        writer.write(schema.poverty_line, _line_rows())
        writer.write(schema.help_unit, [u[:3] for u in shared])
        _add_rows(rows, writer.rows)
        return foreign_keys

    def finish(conn, foreign_keys) -> None:
        writer = _writer(conn)
        writer.write(schema.region, _region_rows(spec, places))
        _add_rows(rows, writer.rows)
        if bulk:
            report(0.96, "正在建立索引与外键")
            _create_secondary_indexes(conn)
            _restore_foreign_keys(conn, foreign_keys)
            _fix_sequences(conn)
        main = next(c for c in counties if c.code == COUNTY_CODE)
        db.set_meta(
            conn, data_as_of=DATA_AS_OF, is_demo="1", county_name=main.name, province_name=names.PROVINCE_NAME,
            demo_seed=str(seed), demo_scale=scale,
        )
        db.bump_data_version(conn)

    if parallel:  # one transaction per step and per county
        try:
            with engine.begin() as conn:
                foreign_keys = prepare(conn)
            county_rows, problems = _load_parallel(engine, seed, spec, counties, shared, workers, report)
            _add_rows(rows, county_rows)
            with engine.begin() as conn:
                finish(conn, foreign_keys)
        except BaseException:
            try:  # counties already committed: leave an empty database, not a half-filled one
                schema.metadata.drop_all(engine)
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            raise
    else:  # everything in one transaction
        with engine.begin() as conn:
            foreign_keys = prepare(conn)
            writer = _writer(conn)
            for k, county in enumerate(counties):
                report(0.07 + 0.88 * k / len(counties), f"正在生成 {county.name}({k + 1}/{len(counties)})")
                problems = _load_county(writer, seed, spec, county, shared, len(counties)) or problems
            _add_rows(rows, writer.rows)
            finish(conn, foreign_keys)
    if backend == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    report(0.99, "正在生成汇总表")
    refresh_summaries(engine)  # data_access.summary: pre-grouped households for the province-wide pages
    rows["meta"] = len(db.read_meta(engine))
    report(1.0, "完成")
    return {
        "scale": scale,
        "seed": seed,
        "backend": backend,
        "counties": len(counties),
        "rows": {t.name: rows.get(t.name, 0) for t in schema.metadata.sorted_tables},
        "problems": problems,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _add_rows(total: dict[str, int], more: dict[str, int]) -> None:
    for table, n in more.items():
        total[table] = total.get(table, 0) + n


def _writer(conn) -> SqlWriter:
    return {"postgresql": CopyWriter, "sqlite": SqliteWriter}.get(conn.dialect.name, SqlWriter)(conn)


def _load_county(writer, seed, spec, county: County, shared, n_counties) -> dict:
    """Generate and write one county's facts; returns its data problems (云岭县 only)."""
    gen = CountyGenerator(seed, county, spec.households, county.code == COUNTY_CODE, shared,
                          single_county=n_counties == 1)
    gen.run(writer)
    return gen.problems


def _county_worker(url: str, seed: int, spec: ScaleSpec, county: County, shared, n_counties):
    """Process-pool task: load one county in its own connection and transaction."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            writer = _writer(conn)
            problems = _load_county(writer, seed, spec, county, shared, n_counties)
        exits = {v.code: v.exit_year for t in county.towns for v in t.villages}
        return writer.rows, problems, exits
    finally:
        engine.dispose()


def _load_parallel(engine, seed, spec, counties, shared, workers, report: Progress):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    url = engine.url.render_as_string(hide_password=False)
    rows: dict[str, int] = {}
    problems: dict = {}
    by_code = {c.code: c for c in counties}
    # fork: the workers need not re-import the caller's main module; each opens its own engine.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(_county_worker, url, seed, spec, c, shared, len(counties)): c.code for c in counties}
        try:
            for done, fut in enumerate(as_completed(futures), 1):
                county_rows, county_problems, exits = fut.result()
                _add_rows(rows, county_rows)
                problems = county_problems or problems
                county = by_code[futures[fut]]
                for t in county.towns:  # the village exit years were set in the worker
                    for v in t.villages:
                        v.exit_year = exits[v.code]
                report(0.07 + 0.88 * done / len(counties), f"已生成 {county.name}({done}/{len(counties)})")
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return rows, problems


def _secondary_indexes():
    return [ix for t in schema.metadata.sorted_tables for ix in t.indexes]


def _drop_secondary_indexes(conn) -> None:
    for ix in _secondary_indexes():
        ix.drop(conn)


def _create_secondary_indexes(conn) -> None:
    for ix in _secondary_indexes():
        ix.create(conn)


def _drop_foreign_keys(conn) -> list[tuple[str, str, str]]:
    """Drop the foreign keys of our tables (PostgreSQL); returns what to re-create."""
    names_ = [t.name for t in schema.metadata.sorted_tables]
    fks = conn.execute(text(
        "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname = ANY(:names) "
        "ORDER BY c.relname, k.conname"), {"names": names_}).all()
    for table, name, _ in fks:
        conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    return [tuple(r) for r in fks]


def _restore_foreign_keys(conn, fks) -> None:
    for table, name, definition in fks:
        conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))


def _fix_sequences(conn) -> None:
    """After explicit ids, move each serial sequence past the largest id."""
    for table in schema.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer) or isinstance(pk[0].type, BigInteger):
            continue
        col = pk[0]
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": col.name}).scalar()
        if seq:
            conn.execute(text(f"SELECT setval('{seq}', COALESCE((SELECT MAX({col.name}) FROM {table.name}), 0) + 1, false)"))
