"""Self-serve household query (查询) and search; the household dossier (户档案) is ``queries.dossier``.

The filter model is ``HouseholdFilter``: a frozen dataclass built from the URL by
``HouseholdFilter.from_params`` (garbage raises ``FilterError`` with a Chinese
message) and written back by ``to_params``, so a query travels as a link.

Definitions (all as of the end of the chosen ``year``):
- The households a query starts from ("on the books"): registered households
  identified by ``year`` (rules.in_registry), plus non-registered households that
  were a monitoring object (监测对象) identified by the end of ``year``.
- status: 未脱贫 / 已脱贫 / 返贫 by rules.not_exited_by / exited_by / returned_by.
- Income: 年人均纯收入 of the income year, the latest year up to ``year`` with income
  data in the scope (the current year's income is usually not in yet).
- line_margin m: income below the income year's line × (1 + m/100), i.e. less than
  m % above it (negative m: at least |m| % below). The line is rules.line_by_year's.
- monitoring_kind / risk / removed: one monitoring object of the household, identified
  by the end of ``year``, with that kind and risk, risk removed (or not) by then.
- helper / unit: a 结对帮扶 assignment active during ``year``.
- q: 户编号 (exact), an 18-digit ID number (exact, check digit validated), or a name
  (contained in the head's or any member's name).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterator, Mapping

import pandas as pd
from sqlalchemy import and_, case, false, func, literal, or_, select
from sqlalchemy.engine import Engine

from ..codes import (
    ascii_number, ascii_whole,
    CAUSES, DANGEROUS_HOUSE_GRADES, HOUSE_GRADES, HOUSEHOLD_ATTRIBUTES,
    HOUSEHOLD_KIND_MONITORING, HOUSEHOLD_STATUSES, MONITORING_KINDS, MONITORING_RISKS, STATUS_EXITED,
    STATUS_NOT_EXITED, STATUS_RETURNED, normalise,
)
from ..privacy import mask_id, mask_phone
from ..schema import assignment as A
from ..schema import help_unit as U
from ..schema import helper as HP
from ..schema import household as H
from ..schema import income as I
from ..schema import monitoring_object as MO
from ..schema import other_cause as OC
from ..schema import person as P
from ..schema import region as R
from ..summary import read as summary
from ..scope import Scope
from ..rules import (
    HH_ID_RE, ID_RE, current_member, exited_by, in_registry, is_valid_id, line_by_year, members_at, not_exited_by,
    returned_by, status_expr,
)
from .common import count_if, frame, half_up, people_if, people_year

PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
INCOME_LIMIT = 10_000_000  # 元 per person per year: anything above is a typing error
NAME_RE = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff·•]{1,20}$")
YEAR_RANGE_RE = re.compile(r"^([0-9]{4})?\s*[-~\uff5e至]\s*([0-9]{4})?$")

STATUS_OF = {STATUS_NOT_EXITED: not_exited_by, STATUS_EXITED: exited_by, STATUS_RETURNED: returned_by}
HOUSE_DANGER = "danger"


class FilterError(ValueError):
    """A filter value that cannot be used; ``messages`` are Chinese and shown as they are."""

    def __init__(self, messages: list[str] | str):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(";".join(self.messages))


# ---- columns of the list ----------------------------------------------------------


@dataclass(frozen=True)
class ListColumn:
    header: str  # Chinese, with the unit
    sortable: bool = True
    default: bool = False


COLUMNS: dict[str, ListColumn] = {
    "hh_id": ListColumn("户编号", default=True),
    "head_name": ListColumn("户主姓名", default=True),
    "town": ListColumn("乡镇", default=True),
    "village": ListColumn("行政村", default=True),
    "natural_village": ListColumn("自然村"),
    "member_count": ListColumn("家庭人口(人)", default=True),
    "attribute": ListColumn("贫困户属性", default=True),
    "standard": ListColumn("识别标准"),
    "main_cause": ListColumn("主要致贫原因", default=True),
    "other_causes": ListColumn("其他致贫原因", sortable=False),
    "status": ListColumn("脱贫状态", default=True),
    "policy_status": ListColumn("脱贫后政策"),
    "identified_year": ListColumn("识别年度", default=True),
    "exit_year": ListColumn("脱贫年度", default=True),
    "returned_year": ListColumn("返贫年度"),
    "income": ListColumn("年人均纯收入(元)", default=True),
    "line_margin": ListColumn("高于标准线(%)"),
    "relocated": ListColumn("易地扶贫搬迁"),
    "house_grade": ListColumn("危房等级"),
    "safe_water": ListColumn("饮水安全"),
    "monitoring": ListColumn("监测对象", sortable=False),
    "helper": ListColumn("帮扶责任人", sortable=False),
    "unit": ListColumn("帮扶单位", sortable=False),
    "phone": ListColumn("户联系电话", sortable=False),
}
DEFAULT_COLUMNS = tuple(k for k, c in COLUMNS.items() if c.default)
SORTABLE = tuple(k for k, c in COLUMNS.items() if c.sortable)


def _year_ranges(h, f) -> list:
    """The filter's 识别年度 / 脱贫年度 ranges as conditions on household-shaped table ``h``."""
    cond = []
    for col, rng in ((h.c.identified_year, f.identified_year), (h.c.exit_year, f.exit_year)):
        lo, hi = rng or (None, None)
        if lo is not None:
            cond.append(col >= lo)
        if hi is not None:
            cond.append(col <= hi)
    return cond


def headers(columns) -> dict[str, str]:
    """Column key -> Chinese header (with unit), for renaming a list frame."""
    return {k: COLUMNS[k].header for k in columns}


# ---- the filter model -------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdFilter:
    main_cause: tuple[str, ...] = ()
    other_cause: tuple[str, ...] = ()
    attribute: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    identified_year: tuple[int | None, int | None] | None = None  # inclusive (from, to)
    exit_year: tuple[int | None, int | None] | None = None
    income_min: float | None = None  # 元 per person
    income_max: float | None = None
    line_margin: float | None = None  # % above the line
    relocated: bool | None = None
    house: tuple[str, ...] = ()  # 危房等级 (HOUSE_DANGER = C and D)
    water: bool | None = None
    monitoring_kind: tuple[str, ...] = ()
    risk: tuple[str, ...] = ()
    removed: bool | None = None
    helper: str | None = None  # helper_id
    unit: str | None = None  # unit_id
    q: str | None = None
    sort: str = "hh_id"  # a SORTABLE key, "-" in front for descending
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    columns: tuple[str, ...] = DEFAULT_COLUMNS

    # URL parameter -> field; everything but region/year (the app's) lives here.
    PARAMS = ("main_cause", "other_cause", "attribute", "status", "identified_year", "exit_year",
              "income_min", "income_max", "line_margin", "relocated", "house", "water", "monitoring_kind",
              "risk", "removed", "helper", "unit", "q", "sort", "page", "size", "cols")

    @property
    def house_grades(self) -> tuple[str, ...]:
        grades: list[str] = []
        for g in self.house:
            for one in (DANGEROUS_HOUSE_GRADES if g == HOUSE_DANGER else (g,)):
                if one not in grades:
                    grades.append(one)
        return tuple(grades)

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def criteria(self) -> "HouseholdFilter":
        """The same filter without paging, sorting and columns (what the count depends on)."""
        return dataclasses.replace(self, sort="hh_id", page=1, page_size=DEFAULT_PAGE_SIZE,
                                   columns=DEFAULT_COLUMNS)

    def is_empty(self) -> bool:
        return self.criteria() == HouseholdFilter()

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> "HouseholdFilter":
        """Build from URL parameters; every problem is collected into one FilterError."""
        errors: list[str] = []
        values: dict[str, object] = {}

        def raw(name: str) -> str:
            value = params.get(name)
            if isinstance(value, (list, tuple)):
                value = value[-1] if value else ""
            return str(value if value is not None else "").strip()[:500]

        def labels(name: str, allowed: tuple[str, ...], title: str, extra: tuple[str, ...] = ()) -> tuple:
            out: list[str] = []
            for part in _split(raw(name)):
                label = part if part in extra else normalise(part, allowed)
                if label is None:
                    errors.append(f"{title}“{part[:20]}”不在代码表中(可选:{'、'.join(allowed + extra)})。")
                elif label not in out:
                    out.append(label)
            return tuple(out)

        values["main_cause"] = labels("main_cause", CAUSES, "主要致贫原因")
        values["other_cause"] = labels("other_cause", CAUSES, "其他致贫原因")
        values["attribute"] = labels("attribute", HOUSEHOLD_ATTRIBUTES, "贫困户属性")
        values["status"] = labels("status", HOUSEHOLD_STATUSES, "脱贫状态")
        values["house"] = labels("house", HOUSE_GRADES, "危房等级", (HOUSE_DANGER,))
        values["monitoring_kind"] = labels("monitoring_kind", MONITORING_KINDS, "监测对象类型")
        values["risk"] = labels("risk", MONITORING_RISKS, "风险类型")
        for name, title in (("identified_year", "识别年度"), ("exit_year", "脱贫年度")):
            text = raw(name)
            if text:
                try:
                    values[name] = _year_range(text)
                except ValueError:
                    errors.append(f"{title}应为4位年份或年份区间(如 2016 或 2015-2017),收到“{text[:20]}”。")
        for name, title, low, high in (("income_min", "收入下限", 0, INCOME_LIMIT),
                                       ("income_max", "收入上限", 0, INCOME_LIMIT),
                                       ("line_margin", "距标准线比例", -100, 1000)):
            text = raw(name)
            if text:
                number = ascii_number(text)
                if number is not None and low <= number <= high:
                    values[name] = number
                else:
                    errors.append(f"{title}应为 {low} 到 {high:,} 之间的数字,收到“{text[:20]}”。")
        if (values.get("income_min") is not None and values.get("income_max") is not None
                and values["income_min"] > values["income_max"]):
            errors.append("收入下限大于收入上限。")
        for name, title in (("relocated", "易地扶贫搬迁"), ("water", "饮水安全"), ("removed", "风险消除")):
            text = raw(name)
            if text:
                if text not in ("1", "0"):
                    errors.append(f"{title}应为 1(是)或 0(否),收到“{text[:20]}”。")
                else:
                    values[name] = text == "1"
        for name, title in (("helper", "帮扶责任人"), ("unit", "帮扶单位")):
            text = raw(name)
            if text:
                if not re.fullmatch(r"[0-9A-Za-z_-]{1,32}", text):
                    errors.append(f"{title}编号格式不正确:“{text[:20]}”。")
                else:
                    values[name] = text
        text = raw("q")
        if text:
            try:
                classify_search(text)
                values["q"] = text
            except FilterError as exc:
                errors.extend(exc.messages)
        text = raw("sort")
        if text:
            if text.lstrip("-") not in SORTABLE:
                errors.append(f"无法按“{text[:20]}”排序。")
            else:
                values["sort"] = text
        text = raw("page")
        if text:
            page = ascii_whole(text, 1, 1_000_000)
            if page is None:
                errors.append(f"页码应为正整数,收到“{text[:20]}”。")
            else:
                values["page"] = page
        text = raw("size")
        if text:
            size = ascii_whole(text)
            if size not in PAGE_SIZES:
                errors.append(f"每页行数应为 {'、'.join(map(str, PAGE_SIZES))} 之一,收到“{text[:20]}”。")
            else:
                values["page_size"] = size
        text = raw("cols")
        if text:
            cols = [c for c in _split(text)]
            unknown = [c for c in cols if c not in COLUMNS]
            if unknown:
                errors.append(f"未知的列:{'、'.join(u[:20] for u in unknown)}。")
            else:
                values["columns"] = tuple(dict.fromkeys(cols))
        if errors:
            raise FilterError(errors)
        return cls(**values)

    def to_params(self) -> dict[str, str]:
        """The URL parameters of this filter (defaults left out)."""
        out: dict[str, str] = {}
        for name in ("main_cause", "other_cause", "attribute", "status", "house", "monitoring_kind", "risk"):
            if getattr(self, name):
                out[name] = ",".join(getattr(self, name))
        for name in ("identified_year", "exit_year"):
            rng = getattr(self, name)
            if rng:
                lo, hi = rng
                out[name] = str(lo) if lo == hi and lo is not None else f"{lo or ''}-{hi or ''}"
        for name in ("income_min", "income_max", "line_margin"):
            value = getattr(self, name)
            if value is not None:
                out[name] = f"{value:g}"
        for name in ("relocated", "water", "removed"):
            value = getattr(self, name)
            if value is not None:
                out[name] = "1" if value else "0"
        for name in ("helper", "unit", "q"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.sort != "hh_id":
            out["sort"] = self.sort
        if self.page != 1:
            out["page"] = str(self.page)
        if self.page_size != DEFAULT_PAGE_SIZE:
            out["size"] = str(self.page_size)
        if self.columns != DEFAULT_COLUMNS:
            out["cols"] = ",".join(self.columns)
        return out


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,,、;;\s]+", text) if p.strip()]


def _year_range(text: str) -> tuple[int | None, int | None]:
    if re.fullmatch(r"[0-9]{4}", text):
        return int(text), int(text)
    match = YEAR_RANGE_RE.match(text)
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(text)
    lo = int(match.group(1)) if match.group(1) else None
    hi = int(match.group(2)) if match.group(2) else None
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(text)
    return lo, hi


# ---- search -----------------------------------------------------------------------


def classify_search(text: str) -> tuple[str, str]:
    """What a search text is: ("hh_id" | "id_number" | "name", value); else FilterError (Chinese)."""
    value = re.sub(r"\s+", "", str(text or ""))
    if not value:
        raise FilterError("请输入户编号、姓名或18位身份证号。")
    if ID_RE.match(value):
        value = value.upper()
        if not is_valid_id(value):
            raise FilterError(f"“{mask_id(value)}”不是有效的身份证号(校验位不符),请核对后重新输入。")
        return "id_number", value
    if re.fullmatch(r"\d{15}", value):
        raise FilterError("不支持15位旧身份证号,请输入18位身份证号。")
    if re.fullmatch(r"\d{17}[^\dXx]?", value) or re.fullmatch(r"\d{19,}", value):
        raise FilterError(f"“{value[:24]}”既不是18位身份证号,也不是户编号,请核对位数。")
    if HH_ID_RE.match(value) and any(ch.isdigit() for ch in value):
        return "hh_id", value
    if NAME_RE.match(value):
        return "name", value
    raise FilterError(f"无法识别“{value[:24]}”:请输入户编号、姓名(汉字)或18位身份证号。")


def _search_condition(scope: Scope, text: str):
    kind, value = classify_search(text)
    if kind == "hh_id":
        return H.c.hh_id == value
    if kind == "id_number":
        return H.c.hh_id.in_(select(P.c.hh_id).where(P.c.id_number == value, scope.where(P), current_member(P)))
    pattern = f"%{_escape_like(value)}%"
    return or_(
        H.c.head_name.like(pattern, escape="\\"),
        # No scope here: a sequential scan of names beats an index range over the whole scope;
        # the outer query keeps the scope.
        H.c.hh_id.in_(select(P.c.hh_id).where(P.c.name.like(pattern, escape="\\"), current_member(P))),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---- conditions -------------------------------------------------------------------


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def on_books(year: int):
    """Households a query starts from at the end of ``year`` (see the module docstring)."""
    watched = H.c.hh_id.in_(select(MO.c.hh_id).where(MO.c.identified_date <= year_end(year)))
    return or_(in_registry(year), and_(H.c.kind == HOUSEHOLD_KIND_MONITORING, watched))


@dataclass(frozen=True)
class IncomeBasis:
    income_year: int | None  # latest year <= the view year with income data in the scope
    line: int | None  # 元, that year's line
    line_kind: str | None  # 贫困线 / 监测线


def income_basis(engine: Engine, scope: Scope, year: int) -> IncomeBasis:
    """The income year the query's income figures use, and that year's line.

    Steps down from the newest income year <= ``year`` (an index seek each) until one has a row
    in the scope, so it costs a few lookups however large the table.
    """
    income_year = None
    with engine.connect() as conn:
        candidate = conn.execute(select(func.max(I.c.year)).where(I.c.year <= year)).scalar()
        while candidate is not None:
            present = conn.execute(
                select(I.c.hh_id).select_from(I.join(H, H.c.hh_id == I.c.hh_id))
                .where(I.c.year == candidate, scope.where(H)).limit(1)
            ).first()
            if present is not None:
                income_year = int(candidate)
                break
            candidate = conn.execute(select(func.max(I.c.year)).where(I.c.year < candidate)).scalar()
    if income_year is None:
        return IncomeBasis(None, None, None)
    lines = line_by_year(engine, scope, income_year, income_year)
    if lines.empty:
        return IncomeBasis(income_year, None, None)
    return IncomeBasis(income_year, int(lines["amount"].iloc[0]), str(lines["kind"].iloc[0]))


def _conditions(scope: Scope, f: HouseholdFilter, year: int, basis: IncomeBasis) -> list:
    cond = [scope.where(H), on_books(year)]
    if f.main_cause:
        cond.append(H.c.main_cause.in_(f.main_cause))
    if f.other_cause:
        cond.append(H.c.hh_id.in_(select(OC.c.hh_id).where(OC.c.cause.in_(f.other_cause))))
    if f.attribute:
        cond.append(H.c.attribute.in_(f.attribute))
    if f.status:
        cond.append(or_(*[STATUS_OF[s](year) for s in f.status]))
    cond.extend(_year_ranges(H, f))
    if f.income_min is not None:
        cond.append(I.c.per_capita_net >= f.income_min)
    if f.income_max is not None:
        cond.append(I.c.per_capita_net <= f.income_max)
    if f.line_margin is not None:
        if basis.line is None:
            raise FilterError(f"{basis.income_year or year}年没有贫困线或监测线数据,无法按距标准线比例筛选。")
        cond.append(I.c.per_capita_net < basis.line * (1.0 + f.line_margin / 100.0))
    if f.relocated is not None:
        cond.append(H.c.relocated.is_(f.relocated))
    if f.house:
        cond.append(H.c.house_grade.in_(f.house_grades))
    if f.water is not None:
        cond.append(H.c.safe_water.is_(f.water))
    if f.monitoring_kind or f.risk or f.removed is not None:
        end = year_end(year)
        mo = [scope.where(MO), MO.c.identified_date <= end]
        if f.monitoring_kind:
            mo.append(MO.c.kind.in_(f.monitoring_kind))
        if f.risk:
            mo.append(MO.c.main_risk.in_(f.risk))
        if f.removed is True:
            mo.append(and_(MO.c.removed_date.is_not(None), MO.c.removed_date <= end))
        elif f.removed is False:
            mo.append(or_(MO.c.removed_date.is_(None), MO.c.removed_date > end))
        cond.append(H.c.hh_id.in_(select(MO.c.hh_id).where(*mo)))
    if f.helper or f.unit:
        help_cond = [A.c.start_date <= year_end(year),
                     or_(A.c.end_date.is_(None), A.c.end_date >= dt.date(year, 1, 1))]
        if f.helper:
            help_cond.append(A.c.helper_id == f.helper)
        if f.unit:
            help_cond.append(A.c.helper_id.in_(select(HP.c.helper_id).where(HP.c.unit_id == f.unit)))
        cond.append(H.c.hh_id.in_(select(A.c.hh_id).where(*help_cond)))
    if f.q:
        cond.append(_search_condition(scope, f.q))
    return cond


def _has_income_filter(f: HouseholdFilter) -> bool:
    return f.income_min is not None or f.income_max is not None or f.line_margin is not None


def _source(f: HouseholdFilter, basis: IncomeBasis, income=I, with_income: bool = False):
    """household, joined to the income year's row when a filter (inner) or the sort (outer) needs it."""
    on = (and_(income.c.hh_id == H.c.hh_id, income.c.year == basis.income_year)
          if basis.income_year is not None else and_(income.c.hh_id == H.c.hh_id, false()))
    if _has_income_filter(f):
        return H.join(income, on)
    if with_income:
        return H.outerjoin(income, on)
    return H


# ---- count and list -----------------------------------------------------------------


def count_households(engine: Engine, scope: Scope, f: HouseholdFilter, year: int) -> dict:
    """Households and people matching ``f`` at the end of ``year``.

    Keys: households (户), persons (人, members at the end of ``year``: ``rules.members_at``), income_year,
    line, line_kind (the income basis, None when the filter uses no income).
    """
    basis = income_basis(engine, scope, year) if _has_income_filter(f) else IncomeBasis(None, None, None)
    stmt = select(func.count(), func.coalesce(func.sum(members_at(people_year(engine, year))), 0)).select_from(
        _source(f, basis)).where(*_conditions(scope, f, year, basis))
    with engine.connect() as conn:
        households, persons = conn.execute(stmt).one()
    return {"households": int(households), "persons": int(persons), "income_year": basis.income_year,
            "line": basis.line, "line_kind": basis.line_kind}


_INTEGER_COLUMNS = {"member_count", "identified_year", "exit_year", "returned_year"}
_NULLABLE_SORTS = {"natural_village", "attribute", "standard", "main_cause", "policy_status", "identified_year",
                   "exit_year", "returned_year", "income", "line_margin", "house_grade", "safe_water"}
_TEXT_SORTS = {"head_name", "natural_village", "attribute", "standard", "main_cause", "status",
               "policy_status", "house_grade"}


def _sort_expr(f: HouseholdFilter, year: int, size_year: int | None):
    key = f.sort_key
    return {
        "hh_id": H.c.hh_id, "head_name": H.c.head_name, "town": H.c.town_code, "village": H.c.village_code,
        "natural_village": H.c.natural_village, "member_count": members_at(size_year),
        "attribute": H.c.attribute, "standard": H.c.standard, "main_cause": H.c.main_cause,
        "status": status_expr(year), "policy_status": H.c.policy_status,
        "identified_year": H.c.identified_year, "exit_year": H.c.exit_year,
        "returned_year": H.c.returned_year, "income": I.c.per_capita_net, "line_margin": I.c.per_capita_net,
        "relocated": case((H.c.relocated.is_(True), 1), else_=0), "house_grade": H.c.house_grade,
        "safe_water": case((H.c.safe_water.is_(True), 1), (H.c.safe_water.is_(False), 0), else_=None),
    }[key]


def _page_ids(engine: Engine, scope: Scope, f: HouseholdFilter, year: int, basis: IncomeBasis,
              page: int, size: int, totals: dict | None = None) -> list[str]:
    """One page's 户编号, sorted in SQL: the sort column (nulls last), then 户编号.

    With a ``totals`` dict, the same statement also counts every match (window functions over
    the rows it sorts anyway) and fills in households and persons, so a filter change is one scan.
    """
    key = f.sort_key
    size_year = people_year(engine, year)
    expr = _sort_expr(f, year, size_year)
    ordered = [case((expr.is_(None), 1), else_=0)] if key in _NULLABLE_SORTS else []
    if engine.dialect.name == "postgresql" and key in _TEXT_SORTS:
        expr = expr.collate("C")  # byte order, the same as SQLite's
    ordered.append(expr.desc() if f.descending else expr.asc())
    if key != "hh_id":
        ordered.append(H.c.hh_id.asc())
    source = _source(f, basis, with_income=key in ("income", "line_margin"))
    counted = _summary_totals(engine, scope, f, year, size_year) if totals is not None else None
    if counted is not None:  # the count from the summary; the page alone from household (index order)
        totals.update(households=counted[0], persons=counted[1])
        totals = None
    extra = [func.count().over(), func.sum(members_at(size_year)).over()] if totals is not None else []
    stmt = (select(H.c.hh_id, *extra).select_from(source).where(*_conditions(scope, f, year, basis))
            .order_by(*ordered).limit(size).offset((page - 1) * size))
    with engine.connect() as conn:
        result = conn.execute(stmt).all()
    if totals is not None:
        if result:
            totals.update(households=int(result[0][1]), persons=int(result[0][2] or 0))
        else:  # past the last page (or nothing matches): count on its own
            totals.update({k: v for k, v in count_households(engine, scope, f, year).items()
                           if k in ("households", "persons")})
    return [r[0] for r in result]


# The criteria summary_household_cause answers (its columns); any other makes the count read household.
_SUMMARY_CRITERIA = ("main_cause", "attribute", "status", "identified_year", "exit_year")


def _summary_totals(engine: Engine, scope: Scope, f: HouseholdFilter, year: int,
                    size_year: int | None) -> tuple[int, int] | None:
    """(households, persons) matching ``f`` from summary_household_cause, the same figures as the
    window count (``on_books`` there: registered by the year, or 一般农户 first identified as a monitoring
    object by the year's end = watched_year <= year); None when the summary cannot answer (stale, a scope
    below a county, or a criterion it has no column for)."""
    defaults = HouseholdFilter()
    rest = dataclasses.replace(f.criteria(), **{k: getattr(defaults, k) for k in _SUMMARY_CRITERIA})
    if rest != HouseholdFilter():
        return None
    h = summary.households_for(engine, scope, summary.cause_summary)
    if h is not summary.cause_summary:
        return None
    cond = [or_(in_registry(year, h),
                and_(h.c.kind == HOUSEHOLD_KIND_MONITORING, h.c.watched_year.is_not(None), h.c.watched_year <= year))]
    if f.main_cause:
        cond.append(h.c.main_cause.in_(f.main_cause))
    if f.attribute:
        cond.append(h.c.attribute.in_(f.attribute))
    if f.status:
        cond.append(or_(*[STATUS_OF[s](year, h) for s in f.status]))
    cond.extend(_year_ranges(h, f))
    matched = and_(*cond)
    stmt = select(count_if(matched, h), people_if(matched, h, size_year)).where(scope.where(h))
    with engine.connect() as conn:
        households, persons = conn.execute(stmt).one()
    return int(households), int(persons)


def query_page(engine: Engine, scope: Scope, f: HouseholdFilter, year: int, masked: bool = True,
               page: int | None = None) -> dict:
    """What a filter change needs, in one scan: the count and one page of the list.

    Keys: households, persons (as ``count_households``), rows (as ``list_page``), income_year,
    line, line_kind (the income basis when the filter or the columns use income, else None).
    """
    totals: dict = {}
    rows, basis = _list(engine, scope, f, year, masked, page, None, totals)
    return {"households": totals["households"], "persons": totals["persons"], "rows": rows,
            "income_year": basis.income_year, "line": basis.line, "line_kind": basis.line_kind}


def list_page(engine: Engine, scope: Scope, f: HouseholdFilter, year: int, masked: bool = True,
              page: int | None = None, page_size: int | None = None) -> pd.DataFrame:
    """One page of the households matching ``f``, sorted in SQL (nulls last, then 户编号).

    Columns: hh_id (always, first) then ``f.columns`` (keys of COLUMNS). ``page`` and
    ``page_size`` default to the filter's. Phone numbers are masked when ``masked``. Only the
    page's rows are read beyond the 户编号: names, income and the other columns are joined
    to those rows alone.
    """
    return _list(engine, scope, f, year, masked, page, page_size)[0]


ID_SEARCH_MASKED = ("按身份证号查询只对能看到完整证件号码的管理员开放:您看到的证件号码是脱敏的,"
                    "逐个试查号码就能推出被隐藏的出生日期。请按姓名或户编号查询。")


def _list(engine: Engine, scope: Scope, f: HouseholdFilter, year: int, masked: bool, page: int | None,
          page_size: int | None, totals: dict | None = None) -> tuple[pd.DataFrame, IncomeBasis]:
    if masked and f.q and classify_search(f.q)[0] == "id_number":  # the answer would complete a masked ID
        raise FilterError(ID_SEARCH_MASKED)
    page = page or f.page
    size = page_size or f.page_size
    columns = tuple(dict.fromkeys(("hh_id",) + tuple(f.columns)))
    wants_income = bool({"income", "line_margin"} & set(columns)) or f.sort_key in ("income", "line_margin")
    basis = (income_basis(engine, scope, year) if wants_income or _has_income_filter(f)
             else IncomeBasis(None, None, None))
    ids = _page_ids(engine, scope, f, year, basis, page, size, totals)
    village, town, inc = R.alias("village_r"), R.alias("town_r"), I.alias("inc")
    base = {
        "hh_id": H.c.hh_id, "head_name": H.c.head_name, "town": town.c.name, "village": village.c.name,
        "natural_village": H.c.natural_village, "member_count": members_at(people_year(engine, year)),
        "attribute": H.c.attribute, "standard": H.c.standard, "main_cause": H.c.main_cause,
        "status": status_expr(year), "policy_status": H.c.policy_status,
        "identified_year": H.c.identified_year, "exit_year": H.c.exit_year, "returned_year": H.c.returned_year,
        "income": inc.c.per_capita_net, "relocated": H.c.relocated, "house_grade": H.c.house_grade,
        "safe_water": H.c.safe_water, "phone": H.c.phone,
        "line_margin": ((inc.c.per_capita_net - basis.line) * 100.0 / basis.line) if basis.line
        else literal(None),
    }
    picked = [base[c].label(c) for c in columns if c in base]
    source = H
    if wants_income:
        on = (and_(inc.c.hh_id == H.c.hh_id, inc.c.year == basis.income_year)
              if basis.income_year is not None else and_(inc.c.hh_id == H.c.hh_id, false()))
        source = source.outerjoin(inc, on)
    if "village" in columns:
        source = source.outerjoin(village, village.c.code == H.c.village_code)
    if "town" in columns:
        source = source.outerjoin(town, town.c.code == H.c.town_code)
    rows = frame(engine, select(*picked).select_from(source).where(H.c.hh_id.in_(ids)) if ids else
                 select(*picked).select_from(source).where(false()), [c.name for c in picked])
    # Keep the SQL order of the page's 户编号 (at most ``size`` rows).
    df = rows.set_index("hh_id", drop=False).reindex(ids).reset_index(drop=True) if len(rows) else rows
    ids_list = list(df["hh_id"])
    if "other_causes" in columns:
        df["other_causes"] = _other_causes(engine, ids_list)
    if "monitoring" in columns:
        df["monitoring"] = _monitoring_labels(engine, ids_list, year)
    if "helper" in columns or "unit" in columns:
        helpers, units = _helper_labels(engine, ids_list, year)
        df["helper"], df["unit"] = helpers, units
    for col in ("income", "line_margin"):
        if col in df:
            df[col] = [half_up(v, 2) for v in df[col]]
    for col in ("relocated", "safe_water"):
        if col in df:
            df[col] = [None if v is None else ("是" if v else "否") for v in df[col]]
    if "phone" in df and masked:
        df["phone"] = [mask_phone(v) if v else v for v in df["phone"]]
    out = df[list(columns)].astype(object)
    out = out.where(out.notna(), None)
    for col in _INTEGER_COLUMNS & set(columns):
        out[col] = pd.array(out[col].tolist(), dtype="Int64")
    return out, basis


def iter_export(engine: Engine, scope: Scope, f: HouseholdFilter, year: int, masked: bool = True,
                row_cap: int = 50_000, chunk_rows: int = 5_000) -> Iterator[pd.DataFrame]:
    """The whole list (up to ``row_cap`` rows, plus one row beyond to tell it was cut) in the list's
    order, ``chunk_rows`` at a time, with Chinese headers."""
    names = headers(tuple(dict.fromkeys(("hh_id",) + tuple(f.columns))))
    fetched = 0
    page = 1
    while fetched <= row_cap:
        df = list_page(engine, scope, f, year, masked=masked, page=page, page_size=chunk_rows)
        fetched += len(df)
        yield df.rename(columns=names)
        if len(df) < chunk_rows:
            return
        page += 1


def _other_causes(engine: Engine, ids: list[str]) -> list[str | None]:
    if not ids:
        return []
    order = {c: i for i, c in enumerate(CAUSES)}
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for hh, cause in conn.execute(select(OC.c.hh_id, OC.c.cause).where(OC.c.hh_id.in_(ids))):
            found.setdefault(hh, []).append(cause)
    return ["、".join(sorted(found[h], key=lambda c: (order.get(c, 99), c))) if h in found else None for h in ids]


def _monitoring_labels(engine: Engine, ids: list[str], year: int) -> list[str | None]:
    """The latest monitoring object identified by the end of ``year``: '类型·风险(已消除/未消除)'."""
    if not ids:
        return []
    end = year_end(year)
    stmt = (select(MO.c.hh_id, MO.c.kind, MO.c.main_risk, MO.c.removed_date)
            .where(MO.c.hh_id.in_(ids), MO.c.identified_date <= end)
            .order_by(MO.c.hh_id, MO.c.identified_date.desc(), MO.c.id.desc()))
    latest: dict[str, str] = {}
    with engine.connect() as conn:
        for hh, kind, risk, removed in conn.execute(stmt):
            if hh not in latest:
                state = "已消除" if removed is not None and removed <= end else "未消除"
                latest[hh] = f"{kind}·{risk}({state})"
    return [latest.get(h) for h in ids]


def _helper_labels(engine: Engine, ids: list[str], year: int) -> tuple[list, list]:
    """Helpers (and their units) with an assignment active during ``year``, newest first."""
    if not ids:
        return [], []
    stmt = (select(A.c.hh_id, HP.c.name, U.c.name)
            .select_from(A.join(HP, HP.c.helper_id == A.c.helper_id).join(U, U.c.unit_id == HP.c.unit_id))
            .where(A.c.hh_id.in_(ids), A.c.start_date <= year_end(year),
                   or_(A.c.end_date.is_(None), A.c.end_date >= dt.date(year, 1, 1)))
            .order_by(A.c.hh_id, A.c.start_date.desc(), A.c.helper_id))
    helpers: dict[str, list[str]] = {}
    units: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for hh, name, unit in conn.execute(stmt):
            if name not in helpers.setdefault(hh, []):
                helpers[hh].append(name)
            if unit not in units.setdefault(hh, []):
                units[hh].append(unit)
    return ([("、".join(helpers[h]) if h in helpers else None) for h in ids],
            [("、".join(units[h]) if h in units else None) for h in ids])


def unit_options(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Help units with a cadre assigned to a household in the scope, for the 帮扶单位 picker when the
    scope has too many cadres to list (province, city). Columns: unit_id, unit_name, helpers; by unit."""
    pairs, hh_scope = A, scope.where(A)
    hs = summary.helpers_for(engine)
    if hs is not None:  # cadre × village pairs from the summary (data_access.summary)
        pairs, hh_scope = hs, scope.where(hs)
    stmt = (
        select(U.c.unit_id, U.c.name.label("unit_name"), func.count(func.distinct(HP.c.helper_id)).label("helpers"))
        .select_from(pairs.join(HP, HP.c.helper_id == pairs.c.helper_id).join(U, U.c.unit_id == HP.c.unit_id))
        .where(hh_scope)
        .group_by(U.c.unit_id, U.c.name)
        .order_by(U.c.unit_id)
    )
    return frame(engine, stmt)


def helper_options(engine: Engine, scope: Scope, unit: str | None = None) -> pd.DataFrame:
    """Helpers assigned to a household in the scope (of help unit ``unit`` when given), for pickers.

    Columns: helper_id, name, unit_id, unit_name, households (assigned, any time); by unit then name.
    """
    stmt = (
        select(HP.c.helper_id, HP.c.name, HP.c.unit_id, U.c.name.label("unit_name"),
               func.count(func.distinct(A.c.hh_id)).label("households"))
        .select_from(A.join(HP, HP.c.helper_id == A.c.helper_id).join(U, U.c.unit_id == HP.c.unit_id))
        .where(scope.where(A))
        .group_by(HP.c.helper_id, HP.c.name, HP.c.unit_id, U.c.name)
        .order_by(HP.c.unit_id, HP.c.helper_id)
    )
    hs = summary.helpers_for(engine)
    if hs is not None:  # the same counts from the per-cadre-and-village summary (data_access.summary)
        stmt = (
            select(HP.c.helper_id, HP.c.name, HP.c.unit_id, U.c.name.label("unit_name"),
                   func.sum(hs.c.households).label("households"))
            .select_from(hs.join(HP, HP.c.helper_id == hs.c.helper_id).join(U, U.c.unit_id == HP.c.unit_id))
            .where(scope.where(hs))
            .group_by(HP.c.helper_id, HP.c.name, HP.c.unit_id, U.c.name)
            .order_by(HP.c.unit_id, HP.c.helper_id)
        )
    if unit is not None:
        stmt = stmt.where(HP.c.unit_id == unit)
    return frame(engine, stmt)
