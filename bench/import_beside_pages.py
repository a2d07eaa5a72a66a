"""Benchmark: a 100,000-person import while another user of the same server process works.

    python bench/import_beside_pages.py FILE [--source sqlite:///bench/out/county.db] [--rounds 2]

FILE is a person sheet (``bench/import_bench.py --keep DIR`` writes one). A thread of this process does
26 ms pure-Python tasks without pause (as another session's page script would) while the file is imported
into a new SQLite database, alternately in this process (``run.run_import``, as the 数据管理 page did) and in
a child (``importer.worker``, as it does now). Prints the import's wall time and the other thread's task
times (median, p95, max): in one process the two share one interpreter lock.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_access import db  # noqa: E402
from data_access.importer import run as importer, samples, worker  # noqa: E402


def task() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(600_000):
        total += i * i
    return time.perf_counter() - started


def other_user(stop: threading.Event, times: list[float]) -> None:
    while not stop.is_set():
        times.append(task())


def new_target(places: bytes) -> str:
    url = f"sqlite:///{tempfile.mkdtemp(prefix='import_beside_')}/target.db"
    db.create_schema(db.get_engine(url))
    assert not importer.run_import(db.get_engine(url), None, [("区划.xlsx", places)], user="bench").errors
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--source", default="sqlite:///bench/out/county.db", help="the demo county (its 区划)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    worker.warm_up()
    places = samples.xlsx_bytes([("区划", *samples.sheet_from_db(db.get_engine(args.source), "places"))])
    data = Path(args.file).read_bytes()
    alone = [task() for _ in range(30)]
    print(f"无导入时:任务中位数 {statistics.median(alone) * 1000:.0f} ms,最长 {max(alone) * 1000:.0f} ms")
    for _ in range(args.rounds):
        for mode in ("本进程内", "独立进程"):
            url = new_target(places)
            times: list[float] = []
            stop = threading.Event()

            thread = threading.Thread(target=other_user, args=(stop, times))
            thread.start()
            started = time.perf_counter()
            files = [(Path(args.file).name, data)]
            if mode == "独立进程":
                result = worker.run_import_isolated(url, None, files, user="bench", refresh="no")
            else:
                result = importer.run_import(db.get_engine(url), None, files, user="bench", refresh="no")
            wall = time.perf_counter() - started
            stop.set()
            thread.join()
            assert result.written and not result.errors, result.summary()
            times.sort()
            print(f"{mode}:导入 {wall:.1f} s;另一线程 {len(times)} 个任务,"
                  f"中位数 {statistics.median(times) * 1000:.0f} ms,"
                  f"p95 {times[int(len(times) * 0.95)] * 1000:.0f} ms,最长 {times[-1] * 1000:.0f} ms;"
                  f"负载 {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
