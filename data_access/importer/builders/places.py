"""区划, 年度减贫任务 and 贫困线/监测线 sheets."""

from __future__ import annotations

import re

from ... import codes
from ..batch import Batch, Sheet, place_key
from ...scope import ScopeError, level_of_code
from .common import duplicates, provided, place_of


def derived_parent(code: str) -> str | None:
    level = level_of_code(code)
    return {
        "village": code[:9] + "000",
        "town": code[:6] + "000000",
        "county": code[:4] + "00000000",
        "city": code[:2] + "0000000000",
        "province": None,
    }[level]


LEVEL_WORDS = {
    "省": "province", "自治区": "province", "直辖市": "province",
    "市": "city", "地区": "city", "州": "city", "盟": "city", "地级市": "city",
    "县": "county", "区": "county", "县(区)": "county", "县级市": "county", "旗": "county", "县(市、区)": "county",
    "县(市、区、旗)": "county",
    "乡镇": "town", "乡": "town", "镇": "town", "街道": "town", "乡(镇)": "town", "乡镇(街道)": "town", "苏木": "town",
    "行政村": "village", "村": "village", "社区": "village", "居委会": "village", "村委会": "village",
    "村(居)委会": "village", "行政村(社区)": "village",
}
for _level, _label in codes.REGION_LEVEL_LABELS.items():
    LEVEL_WORDS[_label] = _level
    LEVEL_WORDS[_level] = _level


# ---- 区划 ----------------------------------------------------------------------------------------------


def build_places(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    duplicates(batch, rows, lambda r: r.values.get("code"), "区划代码")
    pending = []
    for row in rows:
        v = row.values
        code = v.get("code")
        if row.bad or not code:
            continue
        try:
            level = level_of_code(code)
        except ScopeError as exc:
            batch.error(row, "code", str(exc))
            continue
        if v.get("level"):
            given = LEVEL_WORDS.get(v["level"])
            if given is None:
                batch.error(row, "level", "级别应为 省/市/县/乡镇/行政村")
                continue
            if given != level:
                batch.error(row, "level", f"级别与代码不符:代码 {code} 表示{codes.REGION_LEVEL_LABELS[level]}")
                continue
        parent = derived_parent(code)
        if v.get("parent_code") and v["parent_code"] != parent:
            batch.error(row, "parent_code", f"上级区划代码与代码不符:{code} 的上级应为 {parent}")
            continue
        if not batch.in_scope(code):
            batch.error(row, "code", f"区划 {code} 超出本账号可导入的范围({batch.scope.code})")
            continue
        if level != "village" and v.get("is_poor_village"):
            batch.error(row, "is_poor_village", "只有行政村可以是贫困村")
            continue
        poor = v.get("is_poor_village")
        if v.get("exit_year") is not None and poor is False:
            batch.error(row, "exit_year", "非贫困村不应有出列年度")
            continue
        pending.append((row, code, level, parent))
    # Parents may come later in the file: register every valid region first, then check parents.
    for row, code, level, parent in pending:
        batch.places.add(code, row.values["name"], level, parent)
    for row, code, level, parent in pending:
        if level in ("town", "village") and parent not in batch.places.by_code:
            batch.error(row, "code", f"上级区划 {parent} 在数据库和本文件中都不存在")
            continue
        values = {"code": code, "name": row.values["name"], "level": level, "parent_code": parent}
        values |= provided(row, ("rural_population", "lon", "lat"))
        if "is_poor_village" in row.sheet.present:
            values["is_poor_village"] = bool(row.values.get("is_poor_village"))
        if "exit_year" in row.sheet.present:
            values["poor_village_exit_year"] = row.values.get("exit_year")
        batch.plan.put("region", (code,), values, [row])
    # Rejected rows must not serve as places for later sheets.
    for row, code, _, _ in pending:
        if row.bad:
            batch.places.by_code.pop(code, None)


# ---- 年度减贫任务 and lines ------------------------------------------------------------------------


def placed_by_year(batch: Batch, sheets: list[Sheet], levels: tuple[str, ...], what: str) -> list:
    """The sheets' rows placed at one of ``levels`` (``values["_code"]``), one per place and year (a repeat is an
    error: "重复(同一<what>)"); returns the rows that can be written."""
    rows = [r for s in sheets for r in s.rows]
    for row in rows:
        if row.bad:
            continue
        code = place_of(batch, row, levels)
        if code:
            row.values["_code"] = code
    duplicates(batch, rows, lambda r: (r.values.get("_code"), r.values.get("year"))
               if r.values.get("_code") else None, what)
    return [row for row in rows if not row.bad and row.values.get("_code")]


def build_targets(batch: Batch, sheets: list[Sheet]) -> None:
    for row in placed_by_year(batch, sheets, ("county", "town"), "地区和年度"):
        values = {"region_code": row.values["_code"], "year": row.values["year"]}
        values |= provided(row, ("households", "persons", "villages"))
        batch.plan.put("exit_target", (values["region_code"], values["year"]), values, [row])


def build_population(batch: Batch, sheets: list[Sheet]) -> None:
    """农村户籍人口 by village and year (village_population)."""
    for row in placed_by_year(batch, sheets, ("village",), "行政村和年度"):
        values = {"village_code": row.values["_code"], "year": row.values["year"],
                  "population": row.values["rural_population"]}
        batch.plan.put("village_population", (values["village_code"], values["year"]), values, [row])


def build_lines(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    provinces = {place_key(r["name"]): c[:2] for c, r in batch.places.by_code.items() if r["level"] == "province"}
    for row in rows:
        if row.bad:
            continue
        province = row.values.get("province") or ""
        if province in ("全国", "国家"):
            province = ""
        if province and not re.fullmatch(r"\d{2}", province):
            if re.fullmatch(r"\d{12}", province):
                province = province[:2]
            elif place_key(province) in provinces:
                province = provinces[place_key(province)]
            else:
                batch.error(row, "province", "省份应填省级区划代码的前两位(如 52),或数据库中已有的省名称")
                continue
        row.values["_province"] = province
    duplicates(batch, rows, lambda r: (r.values.get("year"), r.values.get("line_kind"), r.values.get("_province")),
               "年度、类别与省份")
    for row in rows:
        if row.bad:
            continue
        values = {"year": row.values["year"], "kind": row.values["line_kind"], "province": row.values["_province"],
                  "amount": row.values["amount"]}
        values |= provided(row, ("source",))
        if "verified" in row.sheet.present:
            values["verified"] = bool(row.values.get("verified"))
        batch.plan.put("poverty_line", (values["year"], values["kind"], values["province"]), values, [row])
