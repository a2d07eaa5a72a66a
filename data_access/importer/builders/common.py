"""Helpers shared by the builders: duplicate rows, the columns a sheet has, places and households a row
refers to, stable ids, region codes."""

from __future__ import annotations

import hashlib
import math

from ... import codes
from .. import values as V
from ..batch import Batch, Row

REGISTERED = codes.HOUSEHOLD_KIND_REGISTERED
MONITORED = codes.HOUSEHOLD_KIND_MONITORING


def duplicates(batch: Batch, rows: list[Row], key_fn, what: str) -> None:
    """Flag rows whose key repeats an earlier row of the batch."""
    first: dict = {}
    for row in rows:
        if row.bad:
            continue
        key = key_fn(row)
        if key is None:
            continue
        if key in first:
            other = first[key]
            where = f"第 {other.number} 行" if other.sheet is row.sheet else \
                f"{batch.file_names[other.file]}“{other.sheet.name}”第 {other.number} 行"
            batch.error(row, None, f"与{where}重复(同一{what})", "、".join(str(k) for k in key if k is not None)
                        if isinstance(key, tuple) else key)
        else:
            first[key] = row


def provided(row: Row, keys, batch: Batch | None = None, old: dict | None = None) -> dict:
    """Values of the columns the row's sheet has. An empty cell means NULL for a new record; for a stored
    one (``old``) it keeps the database's value unless the batch clears blanks."""
    return {k: row.values.get(k) for k in keys if k in row.sheet.present
            and not (batch is not None and batch.keeps(row, k, row.values.get(k), old))}


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def place_of(batch: Batch, row: Row, levels: tuple[str, ...], required: bool = True) -> str | None:
    v = row.values
    if not any(k in row.sheet.present for k in ("region_code", "county_name", "town_name", "village_name")):
        return None
    try:
        code = batch.places.resolve(v.get("region_code"), v.get("county_name"), v.get("town_name"),
                                    v.get("village_name"), levels, batch.scope)
    except V.Bad as exc:
        key = "region_code" if v.get("region_code") else ("village_name" if v.get("village_name") else "town_name")
        batch.error(row, key, str(exc))
        return None
    if code is None and required:
        batch.error(row, "region_code" if "region_code" in row.sheet.present else "town_name", "地点为空", "")
        return None
    if code is not None and not batch.in_scope(code):
        batch.error(row, "region_code" if v.get("region_code") else "village_name",
                    f"地点 {code} 超出本账号可导入的范围({batch.scope.code})", code)
        return None
    return code


def stable_id(prefix: str, *parts) -> str:
    digest = hashlib.sha1("|".join(str(p or "") for p in parts).encode("utf-8")).hexdigest()[:16].upper()
    return f"{prefix}{digest}"


def county_of(code: str) -> str:
    return code[:6] + "000000"


def town_of(code: str) -> str:
    return code[:9] + "000"


def household_for(batch: Batch, row: Row) -> dict | None:
    hh_id = row.values.get("hh_id")
    if not hh_id:
        return None
    hh = batch.household(hh_id)
    if hh is None:
        reason = (f"户编号 {hh_id} 的人员行有错误未导入,数据库中也没有此户" if hh_id in batch.rejected_households
                  else f"户编号 {hh_id} 在数据库和本次文件中都不存在")
        batch.error(row, "hh_id", reason)
        return None
    if not batch.in_scope(hh["village_code"]):
        batch.error(row, "hh_id", f"该户属于 {hh['village_code']},超出本账号可导入的范围")
        return None
    return hh
