"""python bench/imp11_dump.py ROOT OUT.pkl [--target URL] STEP...: imports STEPs in order with the importer under
ROOT into a fresh database holding the county demo's regions, and pickles, after each step, the ImportResult
(problems in order, tables, file reports) and every table's rows (sorted) but import_log, audit_log and meta.

STEP: FILE[:skip][:clear] (skip_invalid / clear_blanks). --target: a PostgreSQL URL whose tables are dropped first.
``python bench/imp11_dump.py --compare A.pkl B.pkl`` prints the first differences (exit 1) or IDENTICAL.
"""
import os
import pickle
import sys
import tempfile

COUNTY = "/work/main/bench/out/county.db"
SKIP_TABLES = {"import_log", "audit_log", "meta"}


def dump(root, out, steps, target=None):
    sys.path.insert(0, root)
    from sqlalchemy import inspect, text
    from data_access import db
    from data_access.importer import run as importer, samples

    source = db.get_engine(f"sqlite:///{COUNTY}")
    places = samples.xlsx_bytes([("区划", *samples.sheet_from_db(source, "places"))])
    if target is None:
        work = tempfile.mkdtemp(prefix="imp11dump_")
        target = f"sqlite:///{os.path.join(work, 'target.db')}"
    engine = db.get_engine(target)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    db.create_schema(engine)
    assert not importer.run_import(engine, None, [("区划.xlsx", places)], user="cmp").errors
    states = []
    for step in steps:
        path, *flags = step.split(":")
        data = open(path, "rb").read()
        r = importer.run_import(engine, None, [(os.path.basename(path), data)], user="cmp", refresh="wait",
                                skip_invalid="skip" in flags, clear_blanks="clear" in flags)
        state = {
            "problems": [p.as_tuple() for p in r.problems],
            "tables": r.tables, "written": r.written, "fatal": getattr(r, "fatal", None),
            "reports": [(f.name, f.rows_read, f.rows_written, f.rows_rejected, f.sheets, f.error) for f in r.files]
            if hasattr(r, "files") else None,
            "fields": {k: dict(v) for k, v in (r.fields or {}).items()},
            "rows": {},
        }
        with engine.connect() as conn:
            for name in sorted(inspect(conn).get_table_names()):
                if name in SKIP_TABLES:
                    continue
                rows = [tuple(x) for x in conn.execute(text(f'SELECT * FROM "{name}"'))]
                state["rows"][name] = sorted(rows, key=repr)
        print(step, "problems", len(state["problems"]), "tables", r.tables, file=sys.stderr)
        states.append(state)
    importer.wait_for_refresh()
    with open(out, "wb") as f:
        pickle.dump(states, f)


def compare(a, b):
    A, B = pickle.load(open(a, "rb")), pickle.load(open(b, "rb"))
    bad = 0
    if len(A) != len(B):
        print("steps differ", len(A), len(B))
        return 1
    for i, (x, y) in enumerate(zip(A, B)):
        for key in x:
            if key == "rows":
                for t in sorted(set(x["rows"]) | set(y["rows"])):
                    rx, ry = x["rows"].get(t), y["rows"].get(t)
                    if rx != ry:
                        bad += 1
                        sx, sy = set(rx or ()), set(ry or ())
                        print(f"step {i} table {t}: {len(rx or ())} vs {len(ry or ())} rows;",
                              "only old:", sorted(sx - sy, key=repr)[:3], "only new:", sorted(sy - sx, key=repr)[:3])
            elif x[key] != y.get(key):
                bad += 1
                if key == "problems":
                    for j, (p, q) in enumerate(zip(x[key], y[key])):
                        if p != q:
                            print(f"step {i} problem {j}: {p} vs {q}")
                            break
                    print(f"step {i} problems: {len(x[key])} vs {len(y[key])}")
                else:
                    print(f"step {i} {key}: {x[key]!r:.300} vs {y.get(key)!r:.300}")
        n = sum(len(v) for v in x["rows"].values())
        print(f"step {i}: {len(x['problems'])} problems, {n} rows in {len(x['rows'])} tables, tables {x['tables']}")
    print("IDENTICAL" if not bad else f"{bad} DIFFERENCES")
    return 1 if bad else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[0] == "--compare":
        sys.exit(compare(args[1], args[2]))
    root, out, *rest = args
    target = None
    if rest and rest[0] == "--target":
        target, rest = rest[1], rest[2:]
    dump(root, out, rest, target)
