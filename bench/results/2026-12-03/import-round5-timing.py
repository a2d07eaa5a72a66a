"""(imp8, fifth round; run as /tmp/imp8/timing.py) The timed part of bench/import_bench.py on an already
generated file, with the code of ROOT:
python timing.py ROOT FILE COUNTY_DB [KEEP_DB]. Empty SQLite DB, the county's 区划 sheet, then the person file
imported (timed, summaries refreshed after in the background, not timed) and imported again (timed)."""
import os
import sys
import tempfile
import time

root, path, county = sys.argv[1:4]
sys.path.insert(0, root)
from data_access import db  # noqa: E402
from data_access.importer import samples as import_samples, run as importer  # noqa: E402
work = tempfile.mkdtemp(prefix="imp8_timing_")
target_path = sys.argv[4] if len(sys.argv) > 4 else os.path.join(work, "target.db")
if os.path.exists(target_path):
    os.remove(target_path)
source = db.get_engine(f"sqlite:///{county}")
data = open(path, "rb").read()
places = import_samples.xlsx_bytes([("区划", *import_samples.sheet_from_db(source, "places"))])
target = db.get_engine(f"sqlite:///{target_path}")
db.create_schema(target)
assert not importer.run_import(target, None, [("区划.xlsx", places)], user="bench").errors
print(f"{root}: file {path} ({len(data) / 1e6:.1f} MB); load {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
def timed(label, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    r = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: {wall:6.1f} s wall, {cpu:6.1f} s CPU; load {os.getloadavg()[0]:.2f}")
    return r, wall, cpu
name = os.path.basename(path)
first, w1, c1 = timed("first import", lambda: importer.run_import(target, None, [(name, data)], user="bench",
                                                                  refresh="after"))
print("  " + first.summary())
importer.wait_for_refresh()
again, w2, c2 = timed("re-import", lambda: importer.run_import(target, None, [(name, data)], user="bench",
                                                            refresh="after"))
print("  " + again.summary())
assert not first.errors and again.changes == 0
