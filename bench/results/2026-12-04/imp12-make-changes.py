"""(imp12) The bench file with ~5 % of its people changed in valid ways (name, phone, education, health, work
months, join date, a 2021– work row's months), for a re-import that updates: python imp12-make-changes.py OUT.xlsx"""
import datetime as dt
import io
import random
import sys

import xlsxwriter

sys.path.insert(0, "/work/wt-imp12")
from data_access.importer import read as RD  # noqa: E402

raw = RD.read("p.xlsx", open("/work/bench-keep/persons_100004.xlsx", "rb").read())
rows = [list(r) for _, r in raw.sheets[0].rows]
header = rows[1]
col = {h: i for i, h in enumerate(header)}
rnd = random.Random(7)
n = 0
for r in rows[2:]:
    if rnd.random() >= 0.05:
        continue
    n += 1
    r += [None] * (len(header) - len(r))
    what = rnd.randrange(6)
    if what == 0:
        r[col["姓名"]] = (r[col["姓名"]] or "") + "明"
    elif what == 1:
        r[col["人联系电话"]] = "139" + "".join(rnd.choice("0123456789") for _ in range(8))
    elif what == 2:
        r[col["文化程度"]] = rnd.choice(["小学", "初中", "高中", "文盲或半文盲"])
    elif what == 3:
        r[col["健康状况"]] = rnd.choice(["健康", "长期慢性病", "患有大病"])
    elif what == 4:
        r[col["务工时间(月)"]] = float(rnd.randrange(13))
    else:
        r[col["入户日期"]] = rnd.choice(["2019-03-01", "2020-05-06", None])
out = io.BytesIO()
book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
ws = book.add_worksheet(raw.sheets[0].name)
for i, cells in enumerate(rows):
    for c, v in enumerate(cells):
        if v is None or v == "":
            continue
        if isinstance(v, str):
            ws.write_string(i, c, v)
        elif isinstance(v, (dt.date, dt.datetime)):
            ws.write_datetime(i, c, v, book.add_format({"num_format": "yyyy-mm-dd"}))
        else:
            ws.write_number(i, c, v)
book.close()
open(sys.argv[1], "wb").write(out.getvalue())
print(n, "people changed")
