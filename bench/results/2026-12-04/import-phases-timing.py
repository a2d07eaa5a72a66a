"""python phases.py ROOT FILE COUNTY_DB: first import + re-import with per-phase wall times (no cProfile)."""
import os, sys, tempfile, time, functools, collections
root, path, county = sys.argv[1:4]
sys.path.insert(0, root)
from data_access import db
from data_access.importer import samples as import_samples, run as importer, read as R, parse as P
from data_access.importer.builders import persons as BP
import data_access.importer.builders as B
T = collections.defaultdict(float)
def wrap(mod, name, label=None):
    fn = getattr(mod, name)
    @functools.wraps(fn)
    def w(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            T[label or name] += time.perf_counter() - t
    setattr(mod, name, w)
    return w
wrap(R, "check_zip"); wrap(R, "read_workbook"); wrap(R, "read")
importer.read = R.read
wrap(P, "parse_sheet"); importer.parse_sheet = P.parse_sheet
wrap(importer, "write_plan")
for k, v in list(B.BUILDERS.items()):
    def mk(v, k):
        def w(*a, **kw):
            t = time.perf_counter()
            try: return v(*a, **kw)
            finally: T["build_" + str(k)] += time.perf_counter() - t
        return w
    B.BUILDERS[k] = mk(v, k)
importer.BUILDERS = B.BUILDERS
work = tempfile.mkdtemp(prefix="phases_")
target_path = os.path.join(work, "target.db")
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
    r = importer.run_import(target, None, [(name, data)], user="bench", refresh="after")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: {wall:.2f} s wall {cpu:.2f} CPU load {os.getloadavg()[0]:.2f}; " + ", ".join(f"{k} {v:.2f}" for k, v in T.items()))
    importer.wait_for_refresh()
