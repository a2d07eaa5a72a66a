"""A province-shaped demo with few households: the demo's province (8 cities, 80 counties, 20,000 villages, the
same region tree, village populations and help units) with ``--households`` registered households per county
instead of 25,000 (default 1,500: ~125,000 households, 480,000 people), summaries included.

    python bench/make_mini_province.py --db postgresql+psycopg://postgres@127.0.0.1:56201/mini

Every per-village and per-unit table (the village frame, summary_village_year, the help windows) has the
province's size, the household-sized ones ~1/17 of it: for timing the parts of a page that grow with the villages
while the full province (``demo --scale province``, ~1 h 20 min on 2 cores) is not at hand. One process (``--workers``
1), ~10 minutes on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_access import db  # noqa: E402
from data_access.demo import common, generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="PostgreSQL URL (replaced whole)")
    parser.add_argument("--households", type=int, default=1500, help="registered households per county")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    spec = dataclasses.replace(common.SCALES["province"], households=args.households)
    common.SCALES["province"] = generate.SCALES["province"] = spec  # the same dict, named in both modules
    started = time.perf_counter()
    report = generate.generate(db.get_engine(args.db), "province", seed=args.seed, workers=1,
                               progress=lambda f, m: print(f"[{f:4.0%}] {m}", flush=True))
    print(f"{sum(report['rows'].values()):,} rows, {report['rows']['household']:,} households, "
          f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
