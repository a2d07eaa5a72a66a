"""资金 and 项目 sheets: funds, projects, arrangements and money flows."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict

from sqlalchemy import select

from ... import codes, schema
from ...scope import level_of_code
from ..batch import Batch, Sheet
from .common import county_of, duplicates, place_of, provided, stable_id, town_of


# ---- funds and projects ---------------------------------------------------------------------------------


def doc_key(doc_no: str | None) -> str | None:
    """A 文号 compared as written, less spaces and full-width forms (〔2020〕 and [2020] stay distinct)."""
    if not doc_no:
        return None
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(doc_no)))


def fund_id_for_doc(doc_no: str) -> str:
    """The 资金编号 of a fund registered by its 文号 alone: the 文号 itself, or a stable id when too long."""
    key = doc_key(doc_no)
    return key if len(key) <= 32 else stable_id("WH", key)


def _funds_by_doc(batch: Batch) -> dict[str, list[str]]:
    """文号 → 资金编号 of the database's funds and of this file's (the file's win)."""
    cache = getattr(batch, "_funds_by_doc", None)
    if cache is None:
        cache = defaultdict(list)
        t = schema.fund
        for fund_id, doc_no in batch.conn.execute(select(t.c.fund_id, t.c.doc_no).where(t.c.doc_no.is_not(None))):
            cache[doc_key(doc_no)].append(fund_id)
        batch._funds_by_doc = cache  # type: ignore[attr-defined]
    return cache


def build_funds(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    by_doc = _funds_by_doc(batch)
    for row in rows:  # a sheet keyed by 文号 alone: the fund's id is the stored fund of that 文号, or the 文号
        v = row.values
        if "fund_id" in row.sheet.present or row.bad:
            continue
        if not v.get("doc_no"):
            batch.error(row, "doc_no", "没有资金编号列时,文号为必填项,不能为空", "")
            continue
        found = by_doc.get(doc_key(v["doc_no"]), [])
        if len(found) > 1:
            batch.error(row, "doc_no", f"数据库中有 {len(found)} 笔资金使用文号“{v['doc_no']}”"
                                       f"({'、'.join(sorted(found))}),请填写资金编号")
            continue
        v["fund_id"] = found[0] if found else fund_id_for_doc(v["doc_no"])
    duplicates(batch, [r for r in rows if not r.bad], lambda r: r.values.get("fund_id"),
               "资金编号" if all("fund_id" in s.present for s in sheets) else "资金编号(或文号)")
    stored = {r["fund_id"]: r for r in batch.fetch(schema.fund, "fund_id", {r.values.get("fund_id") for r in rows})}
    counties = batch.places.of_level("county", batch.scope)
    for row in rows:
        if row.bad:
            continue
        v = row.values
        if v.get("doc_no"):
            fund_ids = by_doc[doc_key(v["doc_no"])]
            if v["fund_id"] not in fund_ids:
                fund_ids.append(v["fund_id"])
        code = place_of(batch, row, ("county", "town"), required=False)
        if row.bad:
            continue
        if code is None:
            if len(counties) != 1:
                batch.error(row, "region_code" if "region_code" in row.sheet.present else "fund_id",
                            "未填接收资金的地区(区划代码或县、乡(镇)名称),且数据库中不止一个县", "")
                continue
            code = counties[0]
        values = {"fund_id": v["fund_id"], "source": v["source"], "year": v["year"], "amount": v["amount"],
                  "region_code": code, "county_code": county_of(code)}
        values |= provided(row, ("doc_no", "allocated_date"), batch, stored.get(v["fund_id"]))
        if "fund_name" in row.sheet.present:
            values["name"] = v.get("fund_name")
        batch.plan.put("fund", (v["fund_id"],), values, [row])


def build_projects(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    duplicates(batch, rows, lambda r: r.values.get("project_id"), "项目编号")
    stored = {r["project_id"]: r for r in batch.fetch(schema.project, "project_id",
                                                      {r.values.get("project_id") for r in rows})}
    for row in rows:
        if row.bad:
            continue
        v = row.values
        code = place_of(batch, row, ("town", "village"), required=False)
        if code is None and not row.bad and v.get("place"):
            code = _place_text(batch, row, v["place"])
        if code is None:
            if not row.bad:
                batch.error(row, "region_code" if "region_code" in row.sheet.present or "place" not in
                            row.sheet.present else "place", "缺少项目地点(区划代码,或 乡(镇)/行政村 名称)", "")
            continue
        bad = False
        for a, b, what in (("planned_start", "planned_end", "计划"), ("actual_start", "actual_end", "实际")):
            if v.get(a) and v.get(b) and v[b] < v[a]:
                batch.error(row, b, f"{what}完工日期早于{what}开工日期")
                bad = True
        if v.get("beneficiary_poor_households") is not None and v.get("beneficiary_households") is not None \
                and v["beneficiary_poor_households"] > v["beneficiary_households"]:
            batch.error(row, "beneficiary_poor_households", "受益贫困户数大于受益户数")
            bad = True
        if bad:
            continue
        level = level_of_code(code)
        values = {"project_id": v["project_id"], "name": v["project_name"], "category": v["category"],
                  "year": v["year"], "budget": v["budget"], "region_code": code,
                  "county_code": county_of(code), "town_code": town_of(code),
                  "village_code": code if level == "village" else None}
        defaults = {}
        if "status" in row.sheet.present and v.get("status"):
            values["status"] = v["status"]
        else:
            defaults["status"] = "在建"
        values |= provided(row, ("subcategory", "planned_start", "planned_end", "actual_start", "actual_end",
                                 "beneficiary_households", "beneficiary_poor_households", "beneficiary_persons"),
                           batch, stored.get(v["project_id"]))
        batch.plan.put("project", (v["project_id"],), values, [row], defaults)
    _ledgers(batch, [r for r in rows if not r.bad and _is_ledger(r.sheet)])


def _place_text(batch: Batch, row, text: str) -> str | None:
    """实施地点 as written: a region code, or the names of a township and village run together (青石镇白岩村),
    or a township's name; None (with an error on the row) when no single place fits."""
    raw = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))
    digits = re.sub(r"\D", "", raw)
    if digits == raw and len(digits) in (12, 15):
        code = digits[:12]
        region = batch.places.by_code.get(code)
        if region is None or region["level"] not in ("town", "village"):
            batch.error(row, "place", f"实施地点 {code} 不是数据库或本次文件中的乡镇或行政村")
            return None
    else:
        found = []
        for code, region in batch.places.by_code.items():
            if region["level"] == "village":
                town = batch.places.by_code.get(region["parent_code"] or "")
                if town and raw in (f"{town['name']}{region['name']}", f"{town['name']}-{region['name']}"):
                    found.append(code)
            elif region["level"] == "town" and raw == region["name"]:
                found.append(code)
        found = [c for c in found if batch.scope is None or batch.scope.contains(c)]
        if len(found) != 1:
            why = "找不到" if not found else f"对应 {len(found)} 个地点"
            batch.error(row, "place", f"实施地点“{text}”{why}:请写“乡(镇)行政村”全称或区划代码")
            return None
        code = found[0]
    if not batch.in_scope(code):
        batch.error(row, "place", f"地点 {code} 超出本账号可导入的范围({batch.scope.code})", code)
        return None
    return code


LEDGER_AMOUNTS = ("ledger_arranged", "ledger_paid", "ledger_spent")


def _is_ledger(sheet: Sheet) -> bool:
    return any(k in sheet.present for k in LEDGER_AMOUNTS)


def _ledgers(batch: Batch, rows) -> None:
    """A county ledger's cumulative 安排/拨付/支出 per project: one arrangement and (when non-zero) one 拨付 and
    one 支出 flow, dated at the ledger's date; they replace the stored flows of that fund and project."""
    if not rows:
        return
    by_doc = _funds_by_doc(batch)
    fund_ids = set()
    for row in rows:
        v = row.values
        if v.get("ledger_fund_id"):
            v["_fund"] = v["ledger_fund_id"]
        elif v.get("ledger_doc_no"):
            found = by_doc.get(doc_key(v["ledger_doc_no"]), [])
            if len(found) != 1:
                why = ("在资金表和数据库中都找不到" if not found else
                       f"对应 {len(found)} 笔资金({'、'.join(sorted(found))}),请改填资金编号")
                batch.error(row, "ledger_doc_no", f"资金文号“{v['ledger_doc_no']}”{why}")
                continue
            v["_fund"] = found[0]
        else:
            header = "ledger_doc_no" if "ledger_doc_no" in row.sheet.present else "project_id"
            batch.error(row, header, "台账的项目须填写资金文号(或资金编号),才能记入安排、拨付、支出", "")
            continue
        fund_ids.add(v["_fund"])
        arranged, paid, spent = (v.get(k) or 0 for k in LEDGER_AMOUNTS)
        if paid > arranged and "ledger_arranged" in row.sheet.present:
            batch.error(row, "ledger_paid", f"累计拨付 {paid:,} 元超过累计安排 {arranged:,} 元")
        elif spent > paid and "ledger_paid" in row.sheet.present:
            batch.error(row, "ledger_spent", f"累计支出 {spent:,} 元超过累计拨付 {paid:,} 元")
    funds = _fund_amounts(batch, fund_ids)
    known = set(funds)
    rows = [r for r in rows if not r.bad]
    for row in rows:
        if row.values["_fund"] not in known:
            batch.error(row, "ledger_fund_id", f"资金编号 {row.values['_fund']} 在数据库和本次文件中都不存在")
    rows = [r for r in rows if not r.bad]
    duplicates(batch, rows, lambda r: (r.values["_fund"], r.values["project_id"]), "资金与项目")
    rows = [r for r in rows if not r.bad]
    # 安排 may not exceed 下达, per fund, counting the database's arrangements to other projects.
    totals = defaultdict(int)
    mine = {(r.values["_fund"], r.values["project_id"]) for r in rows}
    for r in batch.fetch(schema.arrangement, "fund_id", fund_ids, ("fund_id", "project_id", "amount")):
        if (r["fund_id"], r["project_id"]) not in mine:
            totals[r["fund_id"]] += r["amount"]
    for row in rows:
        totals[row.values["_fund"]] += row.values.get("ledger_arranged") or 0
    for row in rows:
        f = row.values["_fund"]
        if "ledger_arranged" in row.sheet.present and totals[f] > (funds.get(f) or 0):
            batch.error(row, "ledger_arranged", f"资金 {f} 安排合计 {totals[f]:,} 元,超过下达金额 "
                                                f"{funds.get(f) or 0:,} 元")
    fallback = getattr(batch, "as_of", None) or dt.date.today()
    for row in rows:
        if row.bad:
            continue
        v = row.values
        pair = (v["_fund"], v["project_id"])
        day = v.get("ledger_date") or getattr(row.sheet, "exported_at", None) or fallback
        if "ledger_arranged" in row.sheet.present:
            batch.plan.put("arrangement", pair, {"fund_id": pair[0], "project_id": pair[1],
                                                 "amount": v.get("ledger_arranged") or 0}, [row])
        flows = {}
        for key, kind in (("ledger_paid", codes.MONEY_PAID), ("ledger_spent", codes.MONEY_SPENT)):
            if key in row.sheet.present and v.get(key):
                flows[kind] = (day, v[key])
        ledger = batch.plan.__dict__.setdefault("ledger_flows", {})
        ledger[pair] = (flows, [row], {kind for key, kind in (("ledger_paid", codes.MONEY_PAID),
                                                              ("ledger_spent", codes.MONEY_SPENT))
                                       if key in row.sheet.present})


def _fund_amounts(batch: Batch, fund_ids) -> dict[str, int]:
    """下达 amount per fund after this import: the file's value over the database's."""
    out = {r["fund_id"]: r["amount"] for r in batch.fetch(schema.fund, "fund_id", fund_ids, ("fund_id", "amount"))}
    for (fund_id,), rec in batch.plan.tables.get("fund", {}).items():
        if fund_id in fund_ids:
            out[fund_id] = rec.values["amount"]
    return out


def build_arrangements(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    duplicates(batch, rows, lambda r: (r.values.get("fund_id"), r.values.get("project_id")), "资金编号与项目编号")
    fund_ids = {r.values.get("fund_id") for r in rows}
    funds = _fund_amounts(batch, fund_ids)
    projects = {r["project_id"] for r in batch.fetch(schema.project, "project_id",
                                                     {r.values.get("project_id") for r in rows}, ("project_id",))}
    projects |= {k[0] for k in batch.plan.tables.get("project", {})}
    for row in rows:
        if row.bad:
            continue
        v = row.values
        if v["fund_id"] not in funds:
            batch.error(row, "fund_id", f"资金编号 {v['fund_id']} 在数据库和本次文件中都不存在")
        if v["project_id"] not in projects:
            batch.error(row, "project_id", f"项目编号 {v['project_id']} 在数据库和本次文件中都不存在")
    # 安排 may not exceed 下达, per fund, counting the database's other arrangements.
    totals = defaultdict(int)
    for r in batch.fetch(schema.arrangement, "fund_id", fund_ids, ("fund_id", "project_id", "amount")):
        totals[r["fund_id"]] += r["amount"]
        totals[(r["fund_id"], r["project_id"])] = r["amount"]
    file_rows = defaultdict(list)
    for row in rows:
        if not row.bad:
            v = row.values
            totals[v["fund_id"]] += v["amount"] - totals.get((v["fund_id"], v["project_id"]), 0)
            file_rows[v["fund_id"]].append(row)
    for fund_id, frows in file_rows.items():
        if totals[fund_id] > (funds.get(fund_id) or 0):
            for row in frows:
                batch.error(row, "amount", f"资金 {fund_id} 安排合计 {totals[fund_id]:,} 元,超过下达金额 "
                                           f"{funds.get(fund_id) or 0:,} 元")
    for row in rows:
        if row.bad:
            continue
        v = row.values
        values = {"fund_id": v["fund_id"], "project_id": v["project_id"], "amount": v["amount"]}
        values |= provided(row, ("arranged_date",))
        batch.plan.put("arrangement", (v["fund_id"], v["project_id"]), values, [row])


def build_flows(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    key = lambda r: (r.values.get("fund_id"), r.values.get("project_id"), r.values.get("flow_kind"),  # noqa: E731
                     r.values.get("flow_date"), r.values.get("amount"))
    duplicates(batch, rows, key, "资金、项目、类型、日期与金额")
    project_ids = {r.values.get("project_id") for r in rows}
    arranged = {(r["fund_id"], r["project_id"]): r["amount"]
                for r in batch.fetch(schema.arrangement, "project_id", project_ids)}
    for k, rec in batch.plan.tables.get("arrangement", {}).items():
        arranged[k] = rec.values["amount"]
    existing = batch.fetch(schema.money_flow, "project_id", project_ids)
    known = {(r["fund_id"], r["project_id"], r["kind"], r["flow_date"], r["amount"]) for r in existing}
    sums = defaultdict(int)
    for r in existing:
        sums[(r["fund_id"], r["project_id"], r["kind"])] += r["amount"]
    pair_rows = defaultdict(list)
    for row in rows:
        if row.bad:
            continue
        v = row.values
        pair = (v["fund_id"], v["project_id"])
        if pair not in arranged:
            batch.error(row, "project_id",
                        f"资金 {pair[0]} 没有安排到项目 {pair[1]}(数据库和本次文件的资金安排中都没有)")
            continue
        if key(row) not in known:
            sums[(*pair, v["flow_kind"])] += v["amount"]
        pair_rows[pair].append(row)
    for pair, prow in pair_rows.items():
        paid, spent = sums[(*pair, codes.MONEY_PAID)], sums[(*pair, codes.MONEY_SPENT)]
        reason = None
        if paid > arranged[pair]:
            reason = f"资金 {pair[0]} 对项目 {pair[1]} 累计拨付 {paid:,} 元,超过安排的 {arranged[pair]:,} 元"
        elif spent > paid:
            reason = f"资金 {pair[0]} 对项目 {pair[1]} 累计支出 {spent:,} 元,超过拨付的 {paid:,} 元"
        if reason:
            for row in prow:
                batch.error(row, "amount", reason)
    for row in rows:
        if row.bad:
            continue
        v = row.values
        values = {"fund_id": v["fund_id"], "project_id": v["project_id"], "kind": v["flow_kind"],
                  "amount": v["amount"], "flow_date": v["flow_date"]}
        batch.plan.put("money_flow", key(row), values, [row])
