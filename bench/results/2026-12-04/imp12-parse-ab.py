"""(imp12) parse_sheet A/B in one process, interleaved: /work/main's parse.py against ROOT's (default
/work/wt-imp12), on a file's raw rows read once: N rounds of old then new (s CPU), and whether the sheets'
rows (number, bad, values with their order and types, cells), cols/present/units/headers and problems are identical.
python imp12-parse-ab.py [FILE ...]   (env ROOT, N)"""
import gc
import importlib.util
import os
import sys
import tempfile
import time

sys.path.insert(0, os.environ.get("ROOT", "/work/wt-imp12"))
from data_access import db  # noqa: E402
from data_access.importer import parse as NEW, read as RD, spec  # noqa: E402
from data_access.importer.batch import Batch  # noqa: E402

found = importlib.util.spec_from_file_location("data_access.importer._oldparse",
                                               os.environ.get("OLD", "/work/main/data_access/importer/parse.py"))
OLD = importlib.util.module_from_spec(found)
found.loader.exec_module(OLD)
engine = db.get_engine(f"sqlite:///{tempfile.mkdtemp()}/t.db")
db.create_schema(engine)
conn = engine.connect()


def go(mod, raw):
    batch, out = Batch(conn, None, ["f"]), []
    t = time.process_time()
    for rs in raw.sheets:
        header = spec.detect_header(rs.rows, rs.name)
        if header is not None:
            out.append(mod.parse_sheet(batch, 0, "f", rs.name, rs.rows, header))
    return time.process_time() - t, batch, out


def typed(values):
    return [(k, type(v).__name__, v) for k, v in values.items()]


def key(batch, out):
    return ([p.as_tuple() for p in batch.problems],
            [[(r.number, r.bad, typed(r.values), r.cells) for r in s.rows] for s in out],
            [(s.cols, s.present, s.units, s.headers, getattr(s, "missing_columns", None)) for s in out])


gc.disable()
for path in sys.argv[1:] or ["/work/bench-keep/persons_100004.xlsx"]:
    raw = RD.read(os.path.basename(path), open(path, "rb").read())
    times: dict[str, list] = {}
    first = None
    for n in range(int(os.environ.get("N", 3))):
        for name, mod in (("old", OLD), ("new", NEW)) if n % 2 == 0 else (("new", NEW), ("old", OLD)):
            t, batch, out = go(mod, raw)
            times.setdefault(name, []).append(round(t, 3))
            if n == 0:
                k = key(batch, out)
                if first is None:
                    first = k
                else:
                    print(path, "identical:", k == first, "problems", len(k[0]), "rows", sum(len(x) for x in k[1]))
            del batch, out
            gc.collect()
    print(path, times, "load", os.getloadavg())
