"""(imp12) A re-import's write_plan (nothing to write: reads and compares only) A/B in one process: the bench
file imported once, then in its re-import write_plan is run K times alternately with /work/main's write
functions and ROOT's on the same plan and connection; prints the CPU seconds and whether the results (counts,
changed rows, fields) are identical.  python imp12-reimport-write-ab.py FILE COUNTY_DB   (env ROOT, K)"""
import gc
import importlib.util
import os
import sys
import tempfile
import time

sys.path.insert(0, os.environ.get("ROOT", "/work/wt-imp12"))
from data_access import db  # noqa: E402
from data_access.importer import run as NEW, samples  # noqa: E402


def load(name, path):
    found = importlib.util.spec_from_file_location(f"data_access.importer.{name}", path)
    mod = importlib.util.module_from_spec(found)
    sys.modules[found.name] = mod
    found.loader.exec_module(mod)
    return mod


OLD = load("_oldrun", "/work/main/data_access/importer/run.py")
OLD.bulk = load("_oldbulk", "/work/main/data_access/importer/bulk.py")
path, county = sys.argv[1:3]
data = open(path, "rb").read()
source = db.get_engine(f"sqlite:///{county}")
places = samples.xlsx_bytes([("区划", *samples.sheet_from_db(source, "places"))])
engine = db.get_engine(f"sqlite:///{tempfile.mkdtemp()}/t.db")
db.create_schema(engine)
assert not NEW.run_import(engine, None, [("区划.xlsx", places)], user="bench", refresh="no").errors
NEW.run_import(engine, None, [(os.path.basename(path), data)], user="bench", refresh="no")
real = NEW.write_plan


def ab(conn, plan, progress=None, fields=None):
    times, outs = {"old": [], "new": []}, {}
    for k in range(int(os.environ.get("K", 5))):
        for name, fn in (("old", OLD.write_plan), ("new", real)) if k % 2 == 0 else (("new", real),
                                                                                      ("old", OLD.write_plan)):
            f = {}
            gc.collect()
            t = time.process_time()
            stats, changed = fn(conn, plan, progress, f)
            times[name].append(round(time.process_time() - t, 3))
            outs.setdefault(name, (stats, changed, f))
    print("re-import write_plan s CPU", times, "load", os.getloadavg()[0])
    print("identical:", outs["old"] == outs["new"], outs["new"][0])
    return real(conn, plan, progress, fields)


NEW.write_plan = ab
NEW.run_import(engine, None, [(os.path.basename(path), data)], user="bench", refresh="no")
