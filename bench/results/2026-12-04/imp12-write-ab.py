"""(imp12) write_plan A/B in one process, interleaved: /work/main's write functions (run.py's write_plan and
helpers, bulk.py) against ROOT's (default /work/wt-imp12). Everything else is ROOT's code. Each round imports
FILE into two copies of a fresh database (one per side, order alternating), then again (re-import); prints each
side's write_plan CPU (and insert_rows CPU) and, at the end, whether both databases hold the same rows in every
table (import_log/audit/meta stamps aside) and the results' problems and tables are the same.
python imp12-write-ab.py FILE COUNTY_DB [--skip-invalid] [--again FILE2 (the re-import's file)]
(env ROOT, N rounds, URL_A/URL_B for PostgreSQL)"""
import gc
import importlib.util
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.environ.get("ROOT", "/work/wt-imp12"))
from sqlalchemy import text  # noqa: E402

from data_access import db  # noqa: E402
from data_access.importer import bulk as NEWBULK, run as NEW, samples  # noqa: E402


def load(name, path):
    found = importlib.util.spec_from_file_location(f"data_access.importer.{name}", path)
    mod = importlib.util.module_from_spec(found)
    sys.modules[found.name] = mod  # (dataclasses look their module up)
    found.loader.exec_module(mod)
    return mod


OLDBULK = load("_oldbulk", "/work/main/data_access/importer/bulk.py")
OLD = load("_oldrun", "/work/main/data_access/importer/run.py")
OLD.bulk = OLDBULK
path, county = sys.argv[1:3]
skip_invalid = "--skip-invalid" in sys.argv
data = open(path, "rb").read()
again = open(sys.argv[sys.argv.index("--again") + 1], "rb").read() if "--again" in sys.argv else data
source = db.get_engine(f"sqlite:///{county}")
places = samples.xlsx_bytes([("区划", *samples.sheet_from_db(source, "places"))])
SKIP = {"import_log", "audit_log", "meta"}
CPU: dict = {}


def timed(label, fn):
    def wrapper(*a, **k):
        t = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            CPU[label] = CPU.get(label, 0.0) + time.process_time() - t
    return wrapper


sides = {"old": (OLD.write_plan, OLDBULK), "new": (NEW.write_plan, NEWBULK)}
for side, (_, bmod) in sides.items():
    bmod.insert_rows = timed(f"{side}_insert", bmod.insert_rows)


def fresh(side, n):
    url = os.environ.get("URL_" + ("A" if side == "old" else "B"))
    if url:
        engine = db.get_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        work = tempfile.mkdtemp(prefix=f"wab_{side}{n}_")
        engine = db.get_engine(f"sqlite:///{work}/t.db")
    db.create_schema(engine)
    assert not NEW.run_import(engine, None, [("区划.xlsx", places)], user="bench", refresh="no").errors
    return engine


def run(side, engine, data):
    NEW.write_plan = timed(side, sides[side][0])
    CPU.clear()
    gc.collect()
    t = time.process_time()
    r = NEW.run_import(engine, None, [(os.path.basename(path), data)], user="bench", refresh="no",
                       skip_invalid=skip_invalid)
    total = time.process_time() - t
    return r, {"total": round(total, 2), **{k: round(v, 3) for k, v in CPU.items()}}


def dump(engine):
    out = {}
    with engine.connect() as conn:
        for name, table in db.schema.metadata.tables.items():
            if name in SKIP:
                continue
            rows = conn.execute(table.select()).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def outcome(r):
    return ([p.as_tuple() for p in r.problems], r.tables, r.written, r.fatal, r.fields,
            [(f.rows_read, f.rows_rejected, f.rows_written) for f in r.files] if hasattr(r, "files") else None)


same = True
for n in range(int(os.environ.get("N", 2))):
    order = ("old", "new") if n % 2 == 0 else ("new", "old")
    engines = {s: fresh(s, n) for s in order}
    results = {}
    for label in ("first", "again"):
        for s in order:
            r, cpu = run(s, engines[s], data if label == "first" else again)
            results[(s, label)] = r
            print(n, label, s, cpu, "load", round(os.getloadavg()[0], 2), flush=True)
        same &= outcome(results[("old", label)]) == outcome(results[("new", label)])
        d_old, d_new = dump(engines["old"]), dump(engines["new"])
        same &= d_old == d_new
        print(n, label, "problems", len(results[("old", label)].problems), "tables", results[("old", label)].tables,
              "rows", {k: len(v) for k, v in d_old.items() if v}, "SAME" if same else "DIFFERENT", flush=True)
    for e in engines.values():
        url = str(e.url)
        e.dispose()
        if url.startswith("sqlite"):
            shutil.rmtree(os.path.dirname(url.split("///")[1]), ignore_errors=True)
print("ALL IDENTICAL" if same else "DIFFERENCES FOUND")
