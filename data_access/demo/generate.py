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
   ``problems``: ``{"no_place": [id, id], "spent_over_paid": [id], ...}``.
3. Exactly 2 households that returned to poverty (返贫) after 2020 are not 监测对象 (every other such
   household is a 脱贫不稳定户 identified in the year it fell back): 返贫 after 2020 is a monitoring
   matter, and the 防返贫监测 page's 数据问题 must name them
   (``problems["returned_outside_monitoring"]``; none when the main county has fewer such households).

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

This module drives the run (tables, counties in one transaction or in parallel, summaries); the
rest lives beside it: ``common`` (dates, lines, scales, random helpers), ``places`` (the region
tree on the tiling of ``geo``), ``distributions`` (the weights), ``county`` (one county's facts)
and ``writers`` (INSERT / executemany / COPY and the bulk-load helpers).
"""

from __future__ import annotations

import os
import time

from sqlalchemy import text
from sqlalchemy.engine import Engine

from .. import codes, db, schema
from ..progress import Progress, reporter
from ..summary.refresh import refresh as refresh_summaries
from . import names
from .common import (
    COUNTY_CODE, CURRENT_YEAR, DATA_AS_OF, DemoError, MONITORING_LINES, POVERTY_LINES, PROVINCE_CODE, SCALES,
    SOURCE_VERIFIED, ScaleSpec, seeded_rng,
)
from .county import CountyGenerator
from .places import City, County, Places, build_places
from .writers import (
    create_secondary_indexes, drop_foreign_keys, drop_secondary_indexes, fix_sequences, restore_foreign_keys,
    writer_for,
)


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


FIRST_POPULATION_YEAR = 2014


def _population_rows(seed: int, places: Places):
    """农村户籍人口 by village and year, FIRST_POPULATION_YEAR to the as-of year: the region's figure is the
    as-of year's; earlier years were larger as people moved their 户籍 to the towns (0.3–1.4 % a year)."""
    last = CURRENT_YEAR
    for city in places.cities:
        for county in city.counties:
            for t in county.towns:
                for v in t.villages:
                    drift = seeded_rng(seed, v.code, "population").uniform(0.003, 0.014)
                    for year in range(FIRST_POPULATION_YEAR, last + 1):
                        yield v.code, year, round(v.rural_population * (1 + drift) ** (last - year))


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
            foreign_keys = drop_foreign_keys(conn)
            drop_secondary_indexes(conn)
        writer = writer_for(conn)
        writer.write(schema.poverty_line, _line_rows())
        writer.write(schema.help_unit, [u[:3] for u in shared])
        _add_rows(rows, writer.rows)
        return foreign_keys

    def finish(conn, foreign_keys) -> None:
        writer = writer_for(conn)
        writer.write(schema.region, _region_rows(spec, places))
        writer.write(schema.village_population, _population_rows(seed, places))
        _add_rows(rows, writer.rows)
        if bulk:
            report(0.96, "正在建立索引与外键")
            create_secondary_indexes(conn)
            restore_foreign_keys(conn, foreign_keys)
            fix_sequences(conn)
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
            writer = writer_for(conn)
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
            writer = writer_for(conn)
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
