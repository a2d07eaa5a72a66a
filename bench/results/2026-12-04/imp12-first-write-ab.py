"""(imp12) A first import's write_plan A/B in one process: in the bench file's first import into a fresh
database, write_plan is run K times alternately with /work/main's write functions and ROOT's on the same plan,
each inside a SAVEPOINT rolled back after it (then once for real); prints the CPU seconds and whether the
results (counts, changed rows, fields) and the rows written (every table, read inside the savepoint) are
identical.  python imp12-first-write-ab.py FILE COUNTY_DB   (env ROOT, K)"""
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
engine = db.get_engine(os.environ.get("URL") or f"sqlite:///{tempfile.mkdtemp()}/t.db")
db.create_schema(engine)
assert not NEW.run_import(engine, None, [("区划.xlsx", places)], user="bench", refresh="no").errors
real = NEW.write_plan
SKIP = {"import_log", "audit_log", "meta"}


def dump(conn):
    return {name: sorted((tuple(r) for r in conn.execute(t.select())), key=repr)
            for name, t in db.schema.metadata.tables.items() if name not in SKIP}


def ab(conn, plan, progress=None, fields=None):
    times, outs = {"old": [], "new": []}, {}
    for k in range(int(os.environ.get("K", 5))):
        for name, fn in (("old", OLD.write_plan), ("new", real)) if k % 2 == 0 else (("new", real),
                                                                                      ("old", OLD.write_plan)):
            f = {}
            gc.collect()
            nested = conn.begin_nested()
            t = time.process_time()
            stats, changed = fn(conn, plan, progress, f)
            times[name].append(round(time.process_time() - t, 3))
            if k == 0:
                outs[name] = (stats, changed, f, dump(conn))
            nested.rollback()
    print("first import write_plan s CPU", times, "load", os.getloadavg()[0])
    print("identical:", outs["old"] == outs["new"], outs["new"][0], {k: len(v) for k, v in outs["new"][3].items()})
    return real(conn, plan, progress, fields)


NEW.write_plan = ab
NEW.run_import(engine, None, [(os.path.basename(path), data)], user="bench", refresh="no")
