"""(imp9, sixth round) Wall / CPU seconds per phase of the bench file's import and re-import, with ROOT's code:
python import-round6-phases.py ROOT [FILE] [PLACES]. A new SQLite DB, the 区划 sheet, then FILE twice
(summaries refreshed after, in the background, not timed). FILE defaults to the bench's generated
persons_100004.xlsx kept in /tmp/imp9, PLACES to the county's 区划 sheet written there."""
import os
import sys
import tempfile
import time

root = sys.argv[1]
path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/imp9/persons_100004.xlsx"
places = sys.argv[3] if len(sys.argv) > 3 else "/tmp/imp9/cmp/places.xlsx"
sys.path.insert(0, root)
from data_access import db  # noqa: E402
from data_access.importer import bulk as B, run as R  # noqa: E402
from data_access.importer.builders import BUILDERS  # noqa: E402

T: dict[str, list[float]] = {}


def timed(fn, label):
    def w(*a, **k):
        t, c = time.perf_counter(), time.process_time()
        try:
            return fn(*a, **k)
        finally:
            x = T.setdefault(label, [0, 0])
            x[0] += time.perf_counter() - t
            x[1] += time.process_time() - c
    return w


R.read = timed(R.read, "read")
R.parse_sheet = timed(R.parse_sheet, "parse")
R.write_plan = timed(R.write_plan, "write_plan")
B.insert_rows = timed(B.insert_rows, "  insert_rows")
R._existing = timed(R._existing, "  _existing")
BUILDERS["persons"] = timed(BUILDERS["persons"], "build_persons")
work = tempfile.mkdtemp(prefix="imp9_ph_")
target = db.get_engine(f"sqlite:///{work}/t.db")
db.create_schema(target)
assert not R.run_import(target, None, [("区划.xlsx", open(places, "rb").read())], user="b").errors
data = open(path, "rb").read()
for n in range(2):
    T.clear()
    w, c = time.perf_counter(), time.process_time()
    r = R.run_import(target, None, [(os.path.basename(path), data)], user="b", refresh="after")
    w, c = time.perf_counter() - w, time.process_time() - c
    print(f"{'first' if n == 0 else 're'}: {w:.2f} wall {c:.2f} cpu load {os.getloadavg()[0]:.2f} "
          + "; ".join(f"{k} {v[0]:.2f}/{v[1]:.2f}" for k, v in T.items()), flush=True)
    R.wait_for_refresh()
