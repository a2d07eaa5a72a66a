"""python import-phases-timing.py ROOT FILE COUNTY_DB: a first import and a re-import of FILE (into a new SQLite
database holding the county's 区划) with the importer of ROOT, in this process, with per-phase wall times."""
import collections
import functools
import os
import sys
import tempfile
import time

root, path, county = sys.argv[1:4]
sys.path.insert(0, root)
from data_access import db  # noqa: E402
from data_access.importer import parse as P, read as R, run as importer, samples as import_samples  # noqa: E402
import data_access.importer.builders as B  # noqa: E402

T: dict = collections.defaultdict(float)


def timed_function(fn, label):
    @functools.wraps(fn)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            T[label] += time.perf_counter() - started
    return timed


for module, name in ((R, "check_zip"), (R, "read_workbook"), (R, "read"), (P, "parse_sheet"),
                     (importer, "write_plan")):
    setattr(module, name, timed_function(getattr(module, name), name))
importer.read, importer.parse_sheet = R.read, P.parse_sheet
for key, builder in list(B.BUILDERS.items()):
    B.BUILDERS[key] = timed_function(builder, f"build_{key}")

target_path = os.path.join(tempfile.mkdtemp(prefix="phases_"), "target.db")
source = db.get_engine(f"sqlite:///{county}")
data = open(path, "rb").read()
places = import_samples.xlsx_bytes([("区划", *import_samples.sheet_from_db(source, "places"))])
target = db.get_engine(f"sqlite:///{target_path}")
db.create_schema(target)
assert not importer.run_import(target, None, [("区划.xlsx", places)], user="bench").errors
name = os.path.basename(path)
for label in ("first", "again"):
    T.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    importer.run_import(target, None, [(name, data)], user="bench", refresh="after")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: {wall:.2f} s wall {cpu:.2f} CPU load {os.getloadavg()[0]:.2f}; "
          + ", ".join(f"{k} {v:.2f}" for k, v in T.items()))
    importer.wait_for_refresh()
