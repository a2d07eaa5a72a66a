"""Build a benchmark database bigger than one demo county: the county copied N times.

    python bench/make_bench_db.py --src sqlite:////tmp/county.db --dst sqlite:////tmp/bench.db --copies 3

Copy k (k = 0 .. N-1) renames county code 523199 to 523199 - k in every code and key
(region codes, 户编号, 人编号, ID numbers, helper/unit/project/fund ids), so the copies are
distinct households in distinct counties under the same city. Meta, lines and logs are
copied once. The generator's ``county`` scale is ~90,000 people, so 3 copies give ~270,000.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import String, Text, func, select  # noqa: E402

from data_access import db, schema  # noqa: E402

SOURCE_COUNTY = "523199"
ONCE = {"meta", "poverty_line", "import_log", "audit_log"}
SHARED_REGIONS = {"province", "city"}
CHUNK = 20_000


def rename(value, prefix: str):
    if isinstance(value, str) and SOURCE_COUNTY in value:
        return value.replace(SOURCE_COUNTY, prefix)
    return value


def copy(src_url: str, dst_url: str, copies: int) -> dict:
    src, dst = db.get_engine(src_url), db.get_engine(dst_url)
    schema.metadata.drop_all(dst)
    schema.metadata.create_all(dst)
    counts: dict[str, int] = {}
    for table in schema.metadata.sorted_tables:
        auto = [c.name for c in table.columns if c.primary_key and c.autoincrement is True
                and len(table.primary_key.columns) == 1 and not isinstance(c.type, (String, Text))]
        cols = [c for c in table.columns if c.name not in auto]
        text_cols = {c.name for c in cols if isinstance(c.type, (String, Text))}
        for k in range(1 if table.name in ONCE else copies):
            prefix = str(int(SOURCE_COUNTY) - k)
            with src.connect() as rconn, dst.begin() as wconn:
                result = rconn.execution_options(stream_results=True).execute(select(*cols))
                for part in result.partitions(CHUNK):
                    rows = []
                    for r in part:
                        row = dict(r._mapping)
                        if table.name == "region" and row["level"] in SHARED_REGIONS and k > 0:
                            continue
                        if table.name == "help_unit" and not row["unit_id"].startswith("U" + SOURCE_COUNTY) and k > 0:
                            continue
                        if k:
                            for name in text_cols:
                                row[name] = rename(row[name], prefix)
                            if table.name == "region" and row["level"] == "county":
                                row["name"] = row["name"] + f"(副本{k})"
                        rows.append(row)
                    if rows:
                        wconn.execute(table.insert(), rows)
                        counts[table.name] = counts.get(table.name, 0) + len(rows)
    with dst.begin() as conn:
        db.set_meta(conn, demo_scale=f"county×{copies}")
        db.bump_data_version(conn)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", required=True)
    parser.add_argument("--dst", required=True)
    parser.add_argument("--copies", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = copy(args.src, args.dst, args.copies)
    with db.get_engine(args.dst).connect() as conn:
        persons = conn.execute(select(func.count()).select_from(schema.person)).scalar_one()
    print(f"{sum(counts.values()):,} rows, {persons:,} persons, {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
