"""收入 sheets: a household's yearly income."""

from __future__ import annotations

from ... import schema
from ..batch import Batch, Sheet
from .common import duplicates, household_for

INCOME_MONEY = ("wage", "business_income", "business_cost", "property_income", "transfer_income", "transfer_excluded")


def build_incomes(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    hh_ids = {r.values.get("hh_id") for r in rows}
    batch.db_households(hh_ids)
    duplicates(batch, rows, lambda r: (r.values.get("hh_id"), r.values.get("year")), "户编号和年度")
    existing = {(r["hh_id"], r["year"]): r for r in batch.fetch(schema.income, "hh_id", hh_ids)}
    for sheet in sheets:
        absent = [sheet.kind.field(k).header for k in INCOME_MONEY if k not in sheet.present]
        if absent:
            batch.sheet_notice(sheet, "、".join(absent), "文件没有这些收入列:新增的收入记录按 0 元计,已有记录保持不变")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        key = (v["hh_id"], v["year"])
        db = existing.get(key) or {}
        members = v.get("members") if v.get("members") is not None else (db.get("members") or hh["member_count"])
        if not members:
            batch.error(row, "members", "家庭人口数为 0,无法计算人均纯收入", "")
            continue
        parts = {k: (v.get(k) or 0) if k in row.sheet.present else (db.get(k) or 0) for k in INCOME_MONEY}
        net = (parts["wage"] + parts["business_income"] - parts["business_cost"] + parts["property_income"]
               + parts["transfer_income"]) / members
        given = v.get("per_capita_net")
        if given is not None and abs(given - net) > 1:
            batch.error(row, "per_capita_net", f"年人均纯收入与各项收入不符:按各项收入计算为 {net:,.2f} 元"
                                               f"((工资性+生产经营性−生产经营性支出+财产性+转移性)÷{members} 人)")
            continue
        values = {"hh_id": v["hh_id"], "year": v["year"], "members": members, "per_capita_net": net}
        values |= {k: parts[k] for k in INCOME_MONEY if k in row.sheet.present}
        batch.plan.put("income", key, values, [row], {k: 0 for k in INCOME_MONEY})
