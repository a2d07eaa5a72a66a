"""帮扶 sheets: cadres (结对帮扶), visits and help measures."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from ... import schema
from .. import values as V
from ..batch import Batch, Row, Sheet, cell_text
from .common import duplicates, household_for, stable_id


def build_helpers(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    batch.db_households({r.values.get("hh_id") for r in rows})
    units = list(batch.conn.execute(select(schema.help_unit)).mappings())
    unit_by_name = defaultdict(list)
    for u in units:
        unit_by_name[V.squeeze(u["name"])].append(u["unit_id"])
    db_helpers = batch.fetch(schema.helper, "name", {r.values.get("helper_name") for r in rows})
    helper_by_name = defaultdict(list)
    for h in db_helpers:
        helper_by_name[(V.squeeze(h["name"]), h["unit_id"])].append(h["helper_id"])
    seen_units: dict[str, Row] = {}
    seen_helpers: dict[str, Row] = {}
    for row in rows:
        if row.bad:
            continue
        v = row.values
        unit_id = v.get("unit_id")
        if not unit_id:
            found = unit_by_name.get(V.squeeze(v["unit_name"]), [])
            unit_id = found[0] if len(found) == 1 else stable_id("U", V.squeeze(v["unit_name"]))
        helper_id = v.get("helper_id")
        if not helper_id:
            found = helper_by_name.get((V.squeeze(v["helper_name"]), unit_id), [])
            helper_id = found[0] if len(found) == 1 else stable_id("H", V.squeeze(v["helper_name"]), unit_id,
                                                                 v.get("helper_phone"))
        v["_unit"], v["_helper"] = unit_id, helper_id
        for seen, key, fields, what in (
                (seen_units, unit_id, ("unit_name", "unit_level"), "帮扶单位"),
                (seen_helpers, helper_id, ("helper_name", "helper_phone", "_unit"), "帮扶责任人")):
            other = seen.get(key)
            if other is None:
                seen[key] = row
                continue
            for f in fields:
                if f in row.sheet.present or f == "_unit":
                    a, b = v.get(f), other.values.get(f)
                    if a is not None and b is not None and a != b:
                        label = "所属单位" if f == "_unit" else row.sheet.headers.get(f, f)
                        batch.error(row, None if f == "_unit" else f,
                                    f"同一{what}({key})在第 {other.number} 行的“{label}”为“{cell_text(b)}”,与本行不同",
                                    a, header=row.sheet.headers.get("unit_name") if f == "_unit" else None)
    duplicates(batch, rows, lambda r: (r.values.get("_helper"), r.values.get("hh_id"), r.values.get("start_date"))
               if r.values.get("_helper") else None, "帮扶责任人、户编号与结对日期")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        if v.get("end_date") and v["end_date"] < v["start_date"]:
            batch.error(row, "end_date", "结束日期早于结对日期")
            continue
        unit = {"unit_id": v["_unit"], "name": v["unit_name"]} | ({"level": v.get("unit_level")}
                                                                   if "unit_level" in row.sheet.present else {})
        batch.plan.put("help_unit", (v["_unit"],), unit, [row])
        helper = {"helper_id": v["_helper"], "name": v["helper_name"], "unit_id": v["_unit"]}
        if "helper_phone" in row.sheet.present:
            helper["phone"] = v.get("helper_phone")
        batch.plan.put("helper", (v["_helper"],), helper, [row], {"town_code": hh["town_code"]})
        batch.helpers.setdefault(v["_helper"], {"name": v["helper_name"], "unit_name": v["unit_name"]})
        assignment = {"helper_id": v["_helper"], "hh_id": v["hh_id"], "start_date": v["start_date"],
                      "village_code": hh["village_code"]}
        if "end_date" in row.sheet.present:
            assignment["end_date"] = v.get("end_date")
        batch.plan.put("assignment", (v["_helper"], v["hh_id"], v["start_date"]), assignment, [row])


def build_visits(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    batch.db_households({r.values.get("hh_id") for r in rows})
    db_by_id = {h["helper_id"]: h for h in batch.fetch(schema.helper, "helper_id",
                                                       {r.values.get("helper_id") for r in rows})}
    db_by_name = defaultdict(list)
    for h in batch.fetch(schema.helper, "name", {r.values.get("helper_name") for r in rows}):
        db_by_name[V.squeeze(h["name"])].append(h)
    unit_names = {u["unit_id"]: u["name"] for u in batch.conn.execute(select(schema.help_unit)).mappings()}
    for row in rows:
        if row.bad:
            continue
        v = row.values
        helper_id = v.get("helper_id")
        if helper_id:
            if helper_id not in db_by_id and helper_id not in batch.helpers:
                batch.error(row, "helper_id", f"帮扶责任人编号 {helper_id} 在数据库和本次文件中都不存在")
                continue
        elif v.get("helper_name"):
            name = V.squeeze(v["helper_name"])
            found = {h["helper_id"]: unit_names.get(h["unit_id"], "") for h in db_by_name.get(name, [])}
            found |= {hid: h["unit_name"] for hid, h in batch.helpers.items() if V.squeeze(h["name"]) == name}
            if v.get("unit_name"):
                found = {k: u for k, u in found.items() if V.squeeze(u) == V.squeeze(v["unit_name"])}
            if len(found) != 1:
                batch.error(row, "helper_name", f"找不到帮扶责任人“{v['helper_name']}”" if not found else
                            f"有 {len(found)} 位帮扶责任人叫“{v['helper_name']}”,请填写帮扶责任人编号或帮扶单位")
                continue
            helper_id = next(iter(found))
        else:
            batch.error(row, "helper_name", "帮扶责任人编号和姓名都为空", "")
            continue
        v["_helper"] = helper_id
    duplicates(batch, rows, lambda r: (r.values.get("_helper"), r.values.get("hh_id"), r.values.get("visit_date"),
                                       r.values.get("visit_kind")) if r.values.get("_helper") else None,
               "帮扶责任人、户、日期与方式")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        values = {"helper_id": v["_helper"], "hh_id": v["hh_id"], "village_code": hh["village_code"],
                  "visit_date": v["visit_date"], "kind": v.get("visit_kind")}
        if "note" in row.sheet.present:
            values["note"] = v.get("note")
        batch.plan.put("visit", (v["_helper"], v["hh_id"], v["visit_date"], v.get("visit_kind")), values, [row])


def build_measures(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    batch.db_households({r.values.get("hh_id") for r in rows})
    duplicates(batch, rows, lambda r: (r.values.get("hh_id"), r.values.get("year"), r.values.get("measure")),
               "户、年度与措施")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        values = {"hh_id": v["hh_id"], "village_code": hh["village_code"], "year": v["year"], "measure": v["measure"]}
        if "amount" in row.sheet.present:
            values["amount"] = v.get("amount")
        batch.plan.put("help_measure", (v["hh_id"], v["year"], v["measure"]), values, [row])
