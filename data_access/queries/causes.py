"""致贫原因: why registered households are poor, in households and people.

Base population everywhere: households in the registry (建档立卡) at the end of
``year`` (``rules.in_registry``), inside the scope. A household has one main
cause (主要致贫原因) and zero or more other causes (其他致贫原因, table
other_cause). An empty main cause is reported as ``NO_CAUSE``.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case, func, literal_column, select
from sqlalchemy.engine import Engine

from ..codes import CAUSES, STATUS_EXITED, STATUS_NOT_EXITED, STATUS_RETURNED
from ..names import display_name_sql
from ..schema import household as H
from ..schema import other_cause as OC
from ..schema import region as R
from ..summary import read as summary
from ..scope import Scope
from ..rules import exited_by, in_registry, members_at, returned_by
from .common import frame, pct

NO_CAUSE = "未填写"
NO_OTHER_CAUSE = "无"


def constant(label: str):
    """A code label written into the SQL text (not a bound parameter), so that an expression and
    its GROUP BY read identically on PostgreSQL."""
    assert "'" not in label
    return literal_column(f"'{label}'")


def main_cause(h=H):
    return func.coalesce(h.c.main_cause, constant(NO_CAUSE))


def status_at(year: int, h=H):
    """脱贫状态 at the end of ``year`` (for households in the registry then)."""
    return case(
        (returned_by(year, h), constant(STATUS_RETURNED)),
        (exited_by(year, h), constant(STATUS_EXITED)),
        else_=constant(STATUS_NOT_EXITED),
    )


def cause_order(causes) -> list[str]:
    """Causes in code-list order, unknown labels after them, 未填写 last."""
    known = [c for c in CAUSES if c in set(causes)]
    extra = sorted(c for c in set(causes) if c not in CAUSES and c != NO_CAUSE)
    return known + extra + ([NO_CAUSE] if NO_CAUSE in set(causes) else [])


def _source(engine: Engine, scope: Scope, group_level: str | None = None):
    """The county-grain cause summary when fresh and the scope is a county or larger, else household."""
    return summary.households_for(engine, scope, summary.cause_summary, group_level)


def _counts(engine: Engine, scope: Scope, year: int, keys, group_level: str | None = None) -> pd.DataFrame:
    """Registered households and persons grouped by ``keys(h)`` (a function of the table read)."""
    h = _source(engine, scope, group_level)
    by = keys(h)
    stmt = (
        select(*by, summary.household_count(h).label("households"), func.sum(members_at(year, h)).label("persons"))
        .where(scope.where(h), in_registry(year, h))
        .group_by(*by)
    )
    df = frame(engine, stmt)
    for col in ("households", "persons"):
        df[col] = df[col].fillna(0).astype("int64")
    return df


def _with_shares(df: pd.DataFrame) -> pd.DataFrame:
    """``cause_mix``'s rows from counts by cause: each cause's share of the total, most households first."""
    total_h, total_p = int(df["households"].sum()), int(df["persons"].sum())
    df["households_pct"] = [pct(n, total_h) for n in df["households"]]
    df["persons_pct"] = [pct(n, total_p) for n in df["persons"]]
    return df.sort_values(["households", "cause"], ascending=[False, True]).reset_index(drop=True)


def cause_mix(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """Registered households and people by main cause at the end of ``year``.

    Columns: cause, households (户), persons (人), households_pct, persons_pct (% of the scope's
    total). Sorted by households, most first.
    """
    return _with_shares(_counts(engine, scope, year, lambda h: [main_cause(h).label("cause")]))


CUBE_COLUMNS = ["code", "name", "cause", "attribute", "status", "identified_year", "households", "persons"]


def cause_cube(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """The 致贫原因 page's counts in one pass: registered households and persons at the end of ``year`` by child
    region (``code`` and its ``name``, the code when it has no region row; None for a village scope), main cause,
    贫困户属性, 脱贫状态 and 识别年度 (``NO_CAUSE`` for an empty cause or attribute). ``mix_of``, ``by_child_of``,
    ``by_attribute_of``, ``by_status_of`` and ``by_identified_year_of`` add it up (five scans of 580,000 summary
    rows at province scale, before)."""
    def keys(h):
        child = [summary.child_key(scope, h).label("code")] if scope.child_level else []
        return [*child, main_cause(h).label("cause"),
                func.coalesce(h.c.attribute, constant(NO_CAUSE)).label("attribute"),
                status_at(year, h).label("status"), h.c.identified_year.label("identified_year")]

    df = _counts(engine, scope, year, keys, scope.child_level)
    if scope.child_level:
        codes = sorted(set(df["code"]))
        with engine.connect() as conn:
            names = dict(conn.execute(select(R.c.code, display_name_sql(R.c.name)).where(R.c.code.in_(codes))).all())
        df["name"] = pd.Series([names.get(code) or code for code in df["code"]], index=df.index, dtype=object)
    else:
        df["code"], df["name"] = None, None
    df["identified_year"] = df["identified_year"].astype("int64")
    return df[CUBE_COLUMNS]


def _rollup(cube: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return (cube.groupby(keys, sort=True, dropna=False)[["households", "persons"]].sum().reset_index()
            .astype({"households": "int64", "persons": "int64"}))


def mix_of(cube: pd.DataFrame) -> pd.DataFrame:
    """``cause_mix`` from ``cause_cube``."""
    return _with_shares(_rollup(cube, ["cause"]))


def cause_by_child(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """Main-cause counts for each child region (towns of a county, villages of a town).

    Columns: code, name, cause, households, persons. Empty for a village scope.
    """
    if scope.child_level is None:
        return pd.DataFrame(columns=["code", "name", "cause", "households", "persons"])
    return by_child_of(cause_cube(engine, scope, year))


def by_child_of(cube: pd.DataFrame) -> pd.DataFrame:
    """``cause_by_child`` from ``cause_cube`` of a scope with child regions: by code, then cause."""
    return _rollup(cube, ["code", "name", "cause"])


def cause_by_attribute(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """Main cause against 贫困户属性 (一般/低保/特困供养). Columns: cause, attribute, households, persons."""
    return by_attribute_of(cause_cube(engine, scope, year))


def by_attribute_of(cube: pd.DataFrame) -> pd.DataFrame:
    return _rollup(cube, ["cause", "attribute"])


def cause_by_status(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """Main cause against 脱贫状态 at the end of ``year`` (未脱贫/已脱贫/返贫).

    Columns: cause, status, households, persons.
    """
    return by_status_of(cause_cube(engine, scope, year))


def by_status_of(cube: pd.DataFrame) -> pd.DataFrame:
    return _rollup(cube, ["cause", "status"])


def cause_by_identified_year(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """Main-cause mix by 识别年度 (households identified up to ``year``).

    Columns: identified_year, cause, households, persons.
    """
    return by_identified_year_of(cause_cube(engine, scope, year))


def by_identified_year_of(cube: pd.DataFrame) -> pd.DataFrame:
    return _rollup(cube, ["identified_year", "cause"])


def cause_combinations(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """Main cause against each other cause (其他致贫原因) listed by the same household.

    Columns: main_cause, other_cause, households, persons. A household with no other cause counts
    once under other_cause = NO_OTHER_CAUSE; one with two other causes counts under both.
    """
    s = summary.households_for(engine, scope, summary.other_cause_summary)
    if s is summary.other_cause_summary:
        other = func.coalesce(s.c.other_cause, constant(NO_OTHER_CAUSE))
        stmt = (
            select(main_cause(s).label("main_cause"), other.label("other_cause"),
                   func.sum(s.c.households).label("households"), func.sum(members_at(year, s)).label("persons"))
            .where(scope.where(s), in_registry(year, s))
            .group_by(main_cause(s), other)
        )
    else:
        other = func.coalesce(OC.c.cause, constant(NO_OTHER_CAUSE))
        stmt = (
            select(main_cause().label("main_cause"), other.label("other_cause"),
                   func.count().label("households"), func.sum(members_at(year, H)).label("persons"))
            .select_from(H.outerjoin(OC, OC.c.hh_id == H.c.hh_id))
            .where(scope.where(H), in_registry(year))
            .group_by(main_cause(), other)
        )
    df = frame(engine, stmt)
    for col in ("households", "persons"):
        df[col] = df[col].fillna(0).astype("int64")
    return df


def other_cause_counts(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """How many registered households list each cause as a 其他致贫原因 (secondary cause).

    Columns: cause, households, persons, households_pct (% of registered households in the scope).
    Sorted by households, most first.
    """
    s = summary.households_for(engine, scope, summary.other_cause_summary)
    if s is summary.other_cause_summary:
        stmt = (
            select(s.c.other_cause.label("cause"), func.sum(s.c.households).label("households"),
                   func.sum(members_at(year, s)).label("persons"))
            .where(scope.where(s), in_registry(year, s), s.c.other_cause.is_not(None))
            .group_by(s.c.other_cause)
        )
    else:
        stmt = (
            select(OC.c.cause, func.count().label("households"), func.sum(members_at(year, H)).label("persons"))
            .select_from(OC.join(H, H.c.hh_id == OC.c.hh_id))
            .where(scope.where(H), in_registry(year))
            .group_by(OC.c.cause)
        )
    h = _source(engine, scope)
    total = select(func.coalesce(summary.household_count(h), 0)).where(scope.where(h), in_registry(year, h))
    df = frame(engine, stmt)
    with engine.connect() as conn:
        registered = int(conn.execute(total).scalar_one())
    for col in ("households", "persons"):
        df[col] = df[col].fillna(0).astype("int64")
    df["households_pct"] = [pct(n, registered) for n in df["households"]]
    return df.sort_values(["households", "cause"], ascending=[False, True]).reset_index(drop=True)
