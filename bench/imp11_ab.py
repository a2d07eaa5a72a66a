"""python bench/imp11_ab.py OLD_ROOT [FILE] [ROUNDS]: the 人员 checks (build_persons + finish_persons) and the
writes of the plan, old (OLD_ROOT's persons.py and batch.py) against new (this tree's), interleaved in one process,
on a first import (an empty database but for the regions) and a re-import (the file already stored). Each run
restores the parsed rows, builds on a fresh Batch and writes in a transaction that is rolled back. CPU seconds.
The first round also checks that old and new give the same problems, plan, households and row values."""
import gc
import importlib.util
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
from data_access import db  # noqa: E402
from data_access.importer import batch as new_batch, run as importer, samples  # noqa: E402
from data_access.importer.builders import persons as new_persons  # noqa: E402
from data_access.importer.read import read  # noqa: E402

COUNTY = "/work/main/bench/out/county.db"
# IMP11_ONLY=new:again (for a profile): only these implementations / states
_only = os.environ.get("IMP11_ONLY", "old,new:first,again").split(":")
IMPLS, STATES = _only[0].split(","), _only[1].split(",")


def load_old(root):
    mods = {}
    for name, rel in (("batch", "data_access/importer/batch.py"),
                      ("builders.persons", "data_access/importer/builders/persons.py")):
        full = f"data_access.importer.{name}_imp11old"
        spec = importlib.util.spec_from_file_location(full, os.path.join(root, rel))
        mod = importlib.util.module_from_spec(spec)
        mod.__package__ = full.rsplit(".", 1)[0]
        sys.modules[full] = mod
        spec.loader.exec_module(mod)
        mods[name] = mod
    return mods["batch"], mods["builders.persons"]


def signature(batch, sheets):
    plan = batch.plan
    return {
        "problems": [p.as_tuple() for p in batch.problems],
        "tables": {t: {k: (rec.values, [(r.sheet.name, r.number) for r in rec.rows], rec.defaults)
                       for k, rec in recs.items()} for t, recs in plan.tables.items()},
        "tables_order": {t: list(recs) for t, recs in plan.tables.items()},
        "other_causes": {k: (rec.values, [r.number for r in rec.rows]) for k, rec in plan.other_causes.items()},
        "households": batch.households, "rejected": batch.rejected_households,
        "kept": {(s.name, k): n for (s, k), n in batch.kept_blanks.items()},
        # (the person a row stands for, and whether its sex and birth date may come from the ID number: kept
        # in the values by the old code, beside them by the new)
        "rows": [({k: v for k, v in r.values.items() if k not in ("_pid", "_derived")}, r.bad)
                 for s in sheets for r in s.rows],
        "known_keys": {t: set(v) for t, v in plan.known.items()},
    }


def main():
    old_root = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else "/work/bench-keep/persons_100004.xlsx"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    flags = set(sys.argv[4].split(",")) if len(sys.argv) > 4 else set()
    old_batch, old_persons = load_old(old_root)
    work = tempfile.mkdtemp(prefix="imp11ab_")
    source = db.get_engine(f"sqlite:///{COUNTY}")
    places = samples.xlsx_bytes([("区划", *samples.sheet_from_db(source, "places"))])
    data = open(path, "rb").read()
    engines = {}
    for state in ("first", "again"):
        e = engines[state] = db.get_engine(f"sqlite:///{os.path.join(work, state + '.db')}")
        db.create_schema(e)
        assert not importer.run_import(e, None, [("区划.xlsx", places)], user="ab").errors
        if state == "again":
            r = importer.run_import(e, None, [(os.path.basename(path), data)], user="ab", refresh="no",
                                    skip_invalid="skip" in flags, clear_blanks="clear" in flags)
            print("stored:", r.tables)
    raw = read(os.path.basename(path), data)
    with engines["first"].connect() as conn:
        b = new_batch.Batch(conn, None, [os.path.basename(path)])
        b.result = importer.ImportResult([importer.FileReport("x", "", 0)], [], {}, False, False)
        b.as_of = None
        sheets = importer._parse(b, [raw], b.result.files, set())
    saved = [(r, dict(r.values)) for s in sheets for r in s.rows]
    impls = {"old": (old_batch.Batch, old_persons), "new": (new_batch.Batch, new_persons)}
    times = {}
    gc.disable()
    for rnd in range(rounds):
        order = ("old", "new") if rnd % 2 == 0 else ("new", "old")
        for state in STATES:
            sigs = {}
            for impl in order:
                if impl not in IMPLS:
                    continue
                cls, mod = impls[impl]
                for r, v in saved:
                    r.values = dict(v)
                    r.bad = False
                with engines[state].connect() as conn:
                    trans = conn.begin()
                    batch = cls(conn, None, [os.path.basename(path)], "skip" in flags, "clear" in flags)
                    batch.unique_ids = True
                    batch.as_of = None
                    t0 = time.process_time()
                    mod.build_persons(batch, sheets)
                    mod.finish_persons(batch, sheets)
                    t1 = time.process_time()
                    bad = {id(r) for s in sheets for r in s.rows if r.bad}
                    batch.plan.drop_rows(bad)
                    stats, changed = importer.write_plan(conn, batch.plan)
                    t2 = time.process_time()
                    trans.rollback()
                times.setdefault((state, impl), []).append((t1 - t0, t2 - t1))
                if rnd == 0:
                    sigs[impl] = (signature(batch, sheets), stats, len(changed))
                del batch
                gc.collect()
            if rnd == 0 and len(IMPLS) == 2:
                same = sigs["old"] == sigs["new"]
                if not same:
                    for k in sigs["old"][0]:
                        if sigs["old"][0][k] != sigs["new"][0][k]:
                            print("DIFFERENT:", k)
                    if sigs["old"][1:] != sigs["new"][1:]:
                        print("DIFFERENT write:", sigs["old"][1:], sigs["new"][1:])
                print(state, "identical" if same else "DIFFERENT", sigs["new"][1], sigs["new"][2],
                      len(sigs["new"][0]["problems"]), "problems")
            print(f"round {rnd} {state}: " + "  ".join(
                f"{impl} build {times[(state, impl)][-1][0]:.2f} write {times[(state, impl)][-1][1]:.2f}"
                for impl in IMPLS) + f"  load {os.getloadavg()[0]:.2f}", flush=True)
    for state in STATES:
        for impl in IMPLS:
            b = sorted(x[0] for x in times[(state, impl)])
            w = sorted(x[1] for x in times[(state, impl)])
            print(f"{state} {impl}: build {b[0]:.2f}-{b[-1]:.2f} (median {b[len(b) // 2]:.2f}), "
                  f"write {w[0]:.2f}-{w[-1]:.2f} (median {w[len(w) // 2]:.2f})")


if __name__ == "__main__":
    main()
