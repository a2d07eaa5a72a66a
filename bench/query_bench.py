"""Server time of a filter change on the query page (查询): count + one page of the list.

    python bench/query_bench.py --db sqlite:////tmp/bench.db [--region 523100000000] [--year 2026] [--repeat 5]

A "filter change" is what the page runs when a filter changes and nothing is cached:
``query_page``: the count and one page of 50 rows (default columns) in one sorted scan, plus
the income basis lookup and the page's detail columns. Each case runs ``--repeat`` times; the table shows
the median and worst wall time, the median CPU time of this process (for SQLite that is the
query work itself, unaffected by other load on the machine) and the rows returned.
Build a database bigger than one county with bench/make_bench_db.py (3 × county ≈ 270,000 people).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from data_access import schema  # noqa: E402
from data_access.db import get_engine  # noqa: E402
from data_access.queries import households as hq  # noqa: E402
from data_access.scope import Scope  # noqa: E402

LIMIT_MS = 300.0


def cases(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        person = conn.execute(text("SELECT name, id_number, hh_id FROM person WHERE id_number LIKE '523199%' "
                                   "ORDER BY person_id LIMIT 1 OFFSET 5000")).one()
        unit = conn.execute(text("SELECT unit_id FROM helper ORDER BY helper_id LIMIT 1 OFFSET 3")).scalar()
        helper = conn.execute(text("SELECT helper_id FROM helper ORDER BY helper_id LIMIT 1 OFFSET 7")).scalar()
    return {
        "无条件": {},
        "低保·因病·2019年脱贫": {"attribute": "低保贫困户", "main_cause": "因病", "exit_year": "2019"},
        "其他致贫原因": {"other_cause": "因学,缺技术"},
        "未脱贫或返贫": {"status": "未脱贫,返贫"},
        "识别年度区间": {"identified_year": "2015-2016"},
        "收入区间": {"income_min": "5000", "income_max": "9000"},
        "距标准线20%以内": {"line_margin": "20"},
        "按收入降序第300页": {"sort": "-income", "page": "300"},
        "按户主姓名排序·全部列": {"sort": "head_name", "cols": ",".join(hq.COLUMNS)},
        "搬迁·危房·饮水": {"relocated": "1", "house": "danger", "water": "0"},
        "监测对象未消除": {"monitoring_kind": "脱贫不稳定户,边缘易致贫户", "removed": "0"},
        "帮扶单位": {"unit": unit},
        "帮扶责任人": {"helper": helper},
        "搜索姓名": {"q": person.name},
        "搜索户编号": {"q": person.hh_id},
        "搜索身份证号": {"q": person.id_number},
        "组合条件": {"main_cause": "因病", "status": "已脱贫", "identified_year": "2014-2016",
                 "line_margin": "50", "water": "1"},
    }


def run(url: str, region: str | None, year: int, repeat: int) -> int:
    engine = get_engine(url)
    with engine.connect() as conn:
        persons = conn.execute(select(func.count()).select_from(schema.person)).scalar_one()
        households = conn.execute(select(func.count()).select_from(schema.household)).scalar_one()
        top = conn.execute(select(schema.region.c.code).where(schema.region.c.parent_code.is_(None))).scalar()
    scope = Scope.of(region) if region else Scope.of(top)
    print(f"数据库 {engine.url.render_as_string(hide_password=True)}: {households:,} 户 {persons:,} 人;"
          f"范围 {scope.code};年度 {year};每项 {repeat} 次")
    print(f"{'条件':<22}{'户数':>8}{'行':>5}{'中位(ms)':>10}{'最慢(ms)':>10}{'CPU中位(ms)':>12}")
    worst_median = 0.0
    for name, params in cases(engine).items():
        f = hq.HouseholdFilter.from_params(params)
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            count = hq.query_page(engine, scope, f, year)
            page = count["rows"]
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        assert len(page) <= f.page_size
        median = statistics.median(walls)
        worst_median = max(worst_median, median)
        print(f"{name:<22}{count['households']:>8,}{len(page):>5}{median:>10.1f}{max(walls):>10.1f}"
              f"{statistics.median(cpus):>12.1f}")
    verdict = "达标" if worst_median < LIMIT_MS else "超标"
    print(f"最慢一项的中位数 {worst_median:.1f} ms(目标 < {LIMIT_MS:.0f} ms):{verdict}")
    return 0 if worst_median < LIMIT_MS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--region", default=None, help="12位区划代码(默认:数据库最上级区划)")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    return run(args.db, args.region, args.year, args.repeat)


if __name__ == "__main__":
    raise SystemExit(main())
