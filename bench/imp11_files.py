"""python bench/imp11_files.py OUTDIR: the files imp11's old-vs-new comparison imports (from the bench's file).

errors.xlsx      30,000 rows of the bench file, ~1 % of cells perturbed (bad / repeated ID numbers, sex or birth
                 date contradicting the ID, no 户主, two 户主, bad dates, unknown 户类型, wrong 人数, a household's
                 rows disagreeing, blank 人编号 + 证件号码, other documents, free-text relations, leave dates,
                 monitoring columns …).
clean30.xlsx     the same 30,000 rows unperturbed (imported first, so errors.xlsx then meets stored people).
changes.xlsx     the 30,000 rows with blanks (kept or cleared), moves between households, new people found by
                 证件号码 only, and two sheets: the second lacks several columns and shares households with the first.
"""
import os
import random
import sys

import python_calamine as pc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from data_access.importer import samples  # noqa: E402

SRC = "/work/bench-keep/persons_100004.xlsx"


def load():
    wb = pc.CalamineWorkbook.from_path(SRC)
    rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
    headers = rows[2]
    data = [list(r) for r in rows[3:] if r and r[4] != ""]
    return headers, data


def main(out):
    os.makedirs(out, exist_ok=True)
    headers, data = load()
    H = {h: i for i, h in enumerate(headers)}
    rows = [list(r) for r in data[:30000]]
    cut = 30000
    while rows[-1][H["户编号"]] == data[cut][H["户编号"]]:  # whole households only
        rows.pop()
        cut -= 1
    clean = [list(r) for r in rows]
    with open(os.path.join(out, "clean30.xlsx"), "wb") as f:
        f.write(samples.xlsx_bytes([("人员", headers, clean)]))
    rnd = random.Random(11)
    err = [list(r) for r in rows]
    n = len(err)
    hh_rows = {}
    for i, r in enumerate(err):
        hh_rows.setdefault(r[H["户编号"]], []).append(i)
    hhs = list(hh_rows)
    for _ in range(int(n * 0.012)):
        i = rnd.randrange(n)
        r = err[i]
        k = rnd.randrange(20)
        if k == 0:
            r[H["证件号码"]] = r[H["证件号码"]][:17] + ("0" if r[H["证件号码"]][17:] != "0" else "1")  # bad check digit
        elif k == 1:
            r[H["性别"]] = "女" if r[H["性别"]] == "男" else "男"
        elif k == 2:
            r[H["出生日期"]] = "1999-13-40" if rnd.random() < 0.5 else "2001-01-01"
        elif k == 3:
            r[H["证件号码"]] = err[rnd.randrange(n)][H["证件号码"]]  # repeated
        elif k == 4:
            for j in hh_rows[r[H["户编号"]]]:
                if err[j][H["与户主关系"]] == "户主":
                    err[j][H["与户主关系"]] = "子"
        elif k == 5:
            r[H["与户主关系"]] = "户主"
        elif k == 6:
            for j in hh_rows[r[H["户编号"]]]:
                err[j][H["户类型"]] = "奇怪户"
        elif k == 7:
            for j in hh_rows[r[H["户编号"]]]:
                err[j][H["人数"]] = float(len(hh_rows[r[H["户编号"]]]) + 1)
        elif k == 8:
            r[H["户类型"]] = "一般农户"  # disagrees with the household's other rows
        elif k == 9:
            r[H["人编号"]] = ""
            r[H["证件号码"]] = ""
        elif k == 10:
            r[H["入户日期"]] = "昨天"
        elif k == 11:
            r[H["减员日期"]] = "2023-05-01"
            r[H["减员原因"]] = "死亡"
        elif k == 12:
            r[H["与户主关系"]] = rnd.choice(["表哥", "干儿子", "女婿", "孙子"])
        elif k == 13:
            r[H["人编号"]] = ""  # found by 证件号码
        elif k == 14:
            r[H["脱贫年度"]] = 2010.0
        elif k == 15:
            r[H["户编号"]] = rnd.choice(hhs)  # moved to another household (often a member_count error)
        elif k == 16:
            r[H["脱贫状态"]] = "未脱贫"
        elif k == 17:
            r[H["危房等级"]] = "D" if rnd.random() < 0.5 else "Z"
        elif k == 18:
            r[H["姓名"]] = ""
        else:
            r[H["区划代码"]] = "523199999999"
    with open(os.path.join(out, "errors.xlsx"), "wb") as f:
        f.write(samples.xlsx_bytes([("人员", headers, err)]))

    ch = [list(r) for r in rows]
    blankable = ["自然村", "贫困户属性", "识别标准", "主要致贫原因", "其他致贫原因", "安置点", "户联系电话", "民族",
                 "文化程度", "健康状况", "劳动技能", "务工状况", "人联系电话", "入户日期", "减员原因", "姓名"]
    for _ in range(int(n * 0.02)):
        i = rnd.randrange(n)
        r = ch[i]
        k = rnd.randrange(8)
        if k <= 2:
            col = rnd.choice(blankable)
            for j in (hh_rows[r[H["户编号"]]] if col in headers[:23] else [i]):
                ch[j][H[col]] = ""
        elif k == 3:
            r[H["人编号"]] = ""  # by 证件号码
        elif k == 4:
            r[H["务工状况"]] = "省外务工"
            r[H["务工时间(月)"]] = 7.0
        elif k == 5:
            r[H["减员日期"]] = "2024-02-02"
        elif k == 6:  # a new person in an existing household
            new = list(r)
            new[H["人编号"]] = r[H["人编号"]][:-2] + "99"
            new[H["证件号码"]] = ""
            new[H["姓名"]] = "新人"
            new[H["与户主关系"]] = "孙子"
            ch.append(new)
        else:
            r[H["危房等级"]] = "C"
    # moves: whole rows moved to another household (the 人数 of both then differs from the file's: dropped)
    for _ in range(40):
        i = rnd.randrange(n)
        ch[i][H["户编号"]] = rnd.choice(hhs)
        ch[i][H["人数"]] = ""
    for j in range(len(ch)):
        if rnd.random() < 0.3:
            ch[j][H["人数"]] = ""
    # two sheets: the second lacks columns, and shares households with the first
    drop = ["减员日期", "减员原因", "务工状况", "务工时间(月)", "户联系电话", "危房等级", "劳动技能", "人数", "民族"]
    keep = [c for c, h in enumerate(headers) if h not in drop]
    split = len(ch) // 2
    first, second = ch[:split], ch[split:]
    sheets = [("人员", headers, first), ("人员2", [headers[c] for c in keep], [[r[c] for c in keep] for r in second])]
    with open(os.path.join(out, "changes.xlsx"), "wb") as f:
        f.write(samples.xlsx_bytes(sheets))
    # moves: half the households, with people who come from the other half (households not in this file), people
    # without 人编号 found by their 证件号码, new people without 人编号, and an ID number of another stored person
    part = [list(r) for r in rows[:15000]]
    while part[-1][H["户编号"]] == rows[len(part)][H["户编号"]]:
        part.pop()
    others = rows[len(part):]
    targets = sorted({r[H["户编号"]] for r in part})
    first_row = {}
    for r in part:
        first_row.setdefault(r[H["户编号"]], r)
    moved_to = set()
    for i in range(60):
        r = list(others[rnd.randrange(len(others))])
        target = rnd.choice(targets)
        r[:H["人编号"]] = first_row[target][:H["人编号"]]  # the household's columns as its other rows give them
        r[H["与户主关系"]] = "之子"
        if i % 3 == 0:
            r[H["人编号"]] = ""
        part.append(r)
        moved_to.add(target)
    for i in range(40):
        j = rnd.randrange(len(part))
        if i % 4 == 0:
            part[j][H["证件号码"]] = part[rnd.randrange(len(part))][H["证件号码"]]  # someone else's (or a repeat)
        elif i % 4 == 1:
            new = list(part[j])
            new[H["人编号"]] = ""
            new[H["证件号码"]] = "11010519491231002X" if i == 1 else "110105194912310038"
            new[H["与户主关系"]] = "之孙女"
            part.append(new)
            moved_to.add(new[H["户编号"]])
        else:
            part[j][H["人编号"]] = ""
    for r in part:
        if r[H["户编号"]] in moved_to:
            r[H["人数"]] = ""  # (else the count given differs from the household's after the import)
    with open(os.path.join(out, "moves.xlsx"), "wb") as f:
        f.write(samples.xlsx_bytes([("人员", headers, part)]))
    print(len(clean), len(err), len(ch), len(part))


if __name__ == "__main__":
    main(sys.argv[1])
