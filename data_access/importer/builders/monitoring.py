"""防返贫监测 sheets: monitoring objects, identified and (maybe) removed."""

from __future__ import annotations

from ..batch import Batch, Row, Sheet
from .common import duplicates, household_for


def _removal(batch: Batch, row: Row, ident, removed, removed_date) -> bool:
    if removed is True and removed_date is None:
        batch.error(row, "mon_removed", "风险已消除,但没有风险消除时间")
        return False
    if removed is False and removed_date is not None:
        batch.error(row, "mon_removed_date", "风险未消除,却填了风险消除时间")
        return False
    if removed_date is not None and ident is not None and removed_date < ident:
        batch.error(row, "mon_removed_date", f"风险消除时间早于识别时间 {ident.isoformat()}")
        return False
    return True


def build_monitoring(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    batch.db_households({r.values.get("hh_id") for r in rows})
    duplicates(batch, rows, lambda r: (r.values.get("hh_id"), r.values.get("mon_identified")), "户编号和识别时间")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        how = (v.get("mon_removed_how") or "").strip()
        if v.get("mon_removed") is None and how:
            v["mon_removed"] = how not in NOT_REMOVED
            row.sheet.present.add("mon_removed")
        if not _removal(batch, row, v["mon_identified"], v.get("mon_removed"), v.get("mon_removed_date")):
            continue
        values = {"hh_id": v["hh_id"], "village_code": hh["village_code"], "kind": v["mon_kind"],
                  "main_risk": v["mon_risk"], "identified_date": v["mon_identified"]}
        if "mon_removed_date" in row.sheet.present or "mon_removed" in row.sheet.present:
            values["removed_date"] = v.get("mon_removed_date")
        if v.get("persons") is not None:
            values["persons"] = v["persons"]
        batch.plan.put("monitoring_object", (v["hh_id"], v["mon_identified"]), values, [row],
                       {"persons": hh["member_count"]})
        found = v.get("mon_found")
        if found is not None:
            if found > v["mon_identified"]:
                batch.error(row, "mon_found", f"风险发现时间晚于识别时间 {v['mon_identified'].isoformat()}")
                continue
            # Written after the monitoring object, on its id (run._write_found).
            batch.plan.put("monitoring_found", (v["hh_id"], v["mon_identified"]),
                           {"hh_id": v["hh_id"], "identified_date": v["mon_identified"], "found_date": found}
                           | ({"channel": v.get("mon_channel")} if "mon_channel" in row.sheet.present else {}),
                           [row])
        if v.get("mon_measures"):
            exported = getattr(row.sheet, "exported_at", None)
            year = (exported or v["mon_identified"]).year
            for measure in v["mon_measures"]:
                batch.plan.put("help_measure", (v["hh_id"], year, measure),
                               {"hh_id": v["hh_id"], "village_code": hh["village_code"], "year": year,
                                "measure": measure}, [row])
    for sheet in sheets:
        for key in ("mon_more_risks", "mon_removed_how"):
            if key in sheet.present:
                batch.sheet_notice(sheet, sheet.headers[key], "已核对,数据库中不单独保存此项")


NOT_REMOVED = ("未消除", "否", "无", "—", "-", "未")
