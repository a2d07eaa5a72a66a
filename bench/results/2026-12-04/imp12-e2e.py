"""(imp12) End to end, old vs new in separate processes: python imp12-e2e.py ROOT URL OUT.pickle [--skip-invalid]
FILE [FILE2 ...] imports the places then each FILE in turn with ROOT's code into URL (a fresh SQLite path or an
empty PostgreSQL database, whose public schema is recreated), and pickles, after each import, every table's rows
(import_log/audit_log/meta aside, sorted) and the result's problems, tables, fields and per-file counts.
Compare two such pickles with: python imp12-e2e.py --compare A.pickle B.pickle"""
import os
import pickle
import sys

if sys.argv[1] == "--compare":
    a, b = (pickle.load(open(p, "rb")) for p in sys.argv[2:4])
    for i, (x, y) in enumerate(zip(a, b)):
        same = {k: x[k] == y[k] for k in x}
        print(f"import {i + 1}: problems {len(x['problems'])} tables {x['tables']} rows",
              {k: len(v) for k, v in x["rows"].items() if v}, "IDENTICAL" if all(same.values()) and len(a) == len(b)
              else f"DIFFERENT {same}")
    sys.exit(0)
root, url, out = sys.argv[1:4]
sys.path.insert(0, root)
from sqlalchemy import text  # noqa: E402

from data_access import db  # noqa: E402
from data_access.importer import run as importer, samples  # noqa: E402

skip_invalid = "--skip-invalid" in sys.argv
files = [f for f in sys.argv[4:] if not f.startswith("--")]
engine = db.get_engine(url)
if url.startswith("postgresql"):
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
db.create_schema(engine)
source = db.get_engine("sqlite:////work/main/bench/out/county.db")
places = samples.xlsx_bytes([("区划", *samples.sheet_from_db(source, "places"))])
assert not importer.run_import(engine, None, [("区划.xlsx", places)], user="bench", refresh="no").errors
dumps = []
for f in files:
    r = importer.run_import(engine, None, [(os.path.basename(f), open(f, "rb").read())], user="bench",
                            refresh="no", skip_invalid=skip_invalid)
    with engine.connect() as conn:
        rows = {name: sorted((tuple(x) for x in conn.execute(t.select())), key=repr)
                for name, t in db.schema.metadata.tables.items() if name not in ("import_log", "audit_log", "meta")}
    dumps.append({"rows": rows, "problems": [p.as_tuple() for p in r.problems], "tables": r.tables,
                  "fields": r.fields, "written": r.written, "fatal": r.fatal,
                  "files": [(x.name, x.rows_read, x.rows_rejected, x.rows_written) for x in r.files]})
pickle.dump(dumps, open(out, "wb"))
print(out, len(dumps), "imports")
