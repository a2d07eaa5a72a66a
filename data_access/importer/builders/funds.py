"""资金 and 项目 sheets: funds, projects, arrangements and money flows."""

from __future__ import annotations

from collections import defaultdict

from ... import codes, schema
from ...scope import level_of_code
from ..batch import Batch, Sheet
from .common import county_of, duplicates, place_of, provided, town_of


# ---- funds and projects ---------------------------------------------------------------------------------


def build_funds(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    duplicates(batch, rows, lambda r: r.values.get("fund_id"), "资金编号")
    stored = {r["fund_id"]: r for r in batch.fetch(schema.fund, "fund_id", {r.values.get("fund_id") for r in rows})}
    counties = batch.places.of_level("county", batch.scope)
    for row in rows:
        if row.bad:
            continue
        v = row.values
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
        code = place_of(batch, row, ("town", "village"), required=True)
        if code is None:
            if not row.bad:
                batch.error(row, "region_code", "缺少项目地点(区划代码,或 乡(镇)/行政村 名称)", "")
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
                  "year": v["year"], "status": v["status"], "budget": v["budget"], "region_code": code,
                  "county_code": county_of(code), "town_code": town_of(code),
                  "village_code": code if level == "village" else None}
        values |= provided(row, ("subcategory", "planned_start", "planned_end", "actual_start", "actual_end",
                                 "beneficiary_households", "beneficiary_poor_households", "beneficiary_persons"),
                           batch, stored.get(v["project_id"]))
        batch.plan.put("project", (v["project_id"],), values, [row])


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
