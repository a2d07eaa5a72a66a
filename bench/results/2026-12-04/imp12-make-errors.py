"""(imp12) A 30,000-row persons file with ~1 % perturbed cells, from the bench file's rows: bad / repeated
证件号码, sex against the ID, 户主 missing or doubled, bad dates, unknown 户类型, wrong member_count, bool cells
(also in number columns: True equals 1), bad phones and codes, numbers in text columns, full-width digits,
short rows, a 合计 row, a footnote, a repeated header and empty rows.
python imp12-make-errors.py OUT.xlsx [N_ROWS [SEED]]"""
import datetime as dt
import io
import random
import sys

import xlsxwriter

sys.path.insert(0, "/work/wt-imp12")
from data_access.importer import read as RD  # noqa: E402

src = "/work/bench-keep/persons_100004.xlsx"
raw = RD.read("p.xlsx", open(src, "rb").read())
rows = raw.sheets[0].rows
head = [r for _, r in rows[:2]]
body = [list(r) for _, r in rows[2:2 + int(sys.argv[2]) if len(sys.argv) > 2 else 30002]]
rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 12)
header = head[1]
col = {h: i for i, h in enumerate(header)}
print(header)


def pick(*names):
    for n in names:
        for h, i in col.items():
            if n in h:
                return i
    raise KeyError(names)


c_id, c_sex, c_rel = pick("证件号码"), pick("性别"), pick("与户主关系")
c_birth, c_join, c_type = pick("出生日期"), pick("入户日期"), pick("户类型")
c_count, c_months = pick("人数"), pick("务工时间", "务工月")
c_phone, c_name, c_hh = pick("人联系电话"), pick("姓名"), pick("户编号")
c_bool = [i for i, v in enumerate(body[0]) if isinstance(v, float) and v in (0.0, 1.0) and i not in (c_count, c_months)]
c_health, c_causes = pick("健康"), pick("其他致贫")
n = len(body)
for _ in range(n // 100):
    r = body[rnd.randrange(n)]
    r += [None] * (len(header) - len(r))  # (trailing blanks are not written)
    what = rnd.randrange(22)
    if what == 0 and isinstance(r[c_id], str):
        r[c_id] = r[c_id][:17] + ("0" if r[c_id][17] != "0" else "1")
    elif what == 1:
        r[c_sex] = "女" if r[c_sex] == "男" else "男"
    elif what == 2:
        r[c_rel] = "其他" if r[c_rel] == "户主" else "户主"
    elif what == 3:
        r[c_birth] = rnd.choice(["2019-02-30", "abc", "1990/13/01", 43000.0, dt.datetime(1980, 5, 6), "19800506"])
    elif what == 4:
        r[c_id] = body[rnd.randrange(n)][c_id]
    elif what == 5:
        r[c_type] = "奇怪户"
    elif what == 6:
        r[c_count] = (r[c_count] or 1) + 2
    elif what == 7:
        r[rnd.choice(c_bool)] = rnd.choice([True, False])
    elif what == 8:
        r[c_count] = True
    elif what == 9:
        r[c_months] = rnd.choice([True, False])
    elif what == 10:
        r[c_phone] = rnd.choice(["12-34", "abc", 13800138000.0, "+8613800138000", " 138 0013 8000 ", "1.38E+10"])
    elif what == 11:
        r[c_health] = rnd.choice(["很好", "健 康", True])
    elif what == 12:
        r[c_name] = rnd.choice([1.0, 0.0, True, "  张  三 ", "——"])
    elif what == 13:
        r[c_hh] = "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() else ch for ch in str(r[c_hh]))
    elif what == 14:
        r[c_join] = rnd.choice(["2020-01-01", "2020年3月5日", "20200305", "x"])
    elif what == 15:
        del r[len(r) // 2:]
    elif what == 16:
        r[c_causes] = rnd.choice(["因病, 因残", "无", "未知原因", True, 1.0])
    elif what == 17:
        r[c_id] = ""
    elif what == 18:
        r[c_months] = rnd.choice(["3个月", -1.0, 13.0, "abc"])
    elif what == 19:
        r[rnd.randrange(len(r))] = None
    elif what == 20:
        r[c_rel] = ""
    else:
        r[rnd.choice(c_bool)] = rnd.choice(["是", "否", "x", 2.0, True])
for at, extra in ((n // 3, [None] * 5), (n // 2, list(header)), (2 * n // 3, ["合计", None, None, None, None, n])):
    body.insert(at, extra)
body.append(["注:本表由系统导出"])
out = io.BytesIO()
book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
date = book.add_format({"num_format": "yyyy-mm-dd"})
ws = book.add_worksheet(raw.sheets[0].name)
for r, cells in enumerate(head + body):
    for c, v in enumerate(cells):
        if v is None or v == "" and not isinstance(v, bool):
            continue
        if isinstance(v, bool):
            ws.write_boolean(r, c, v)
        elif isinstance(v, str):
            ws.write_string(r, c, v)
        elif isinstance(v, (dt.date, dt.datetime)):
            ws.write_datetime(r, c, v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time()), date)
        else:
            ws.write_number(r, c, v)
book.close()
open(sys.argv[1], "wb").write(out.getvalue())
print(n, "rows")
