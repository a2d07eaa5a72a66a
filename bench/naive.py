"""The naive way, for comparison: read whole tables with ``pd.read_sql`` and compute the figures in pandas.

Each page's headline figures are computed as a page written without SQL aggregation would: every table the
figure needs is read whole (only the columns used, which flatters the naive way), filtered to the region by
code prefix and grouped in pandas. Nothing is shared between pages or cached, as in a request without a cache.
Where the figure is also produced by a data_access query, the two results are compared (``agrees``): the
benchmark's baseline must compute the same numbers.

Used by bench/run.py (``--worker naive``) in a subprocess of its own, so its memory is measured apart.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import pandas as pd

from bench.objects import samples
from data_access import codes
from data_access.db import get_engine
from data_access.queries import causes, funds, monitoring, overview
from data_access.rules import window
from data_access.scope import Scope

REGISTERED = codes.HOUSEHOLD_KIND_REGISTERED


def read(engine, table: str, columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(f"SELECT {', '.join(columns)} FROM {table}", conn)


def in_scope(df: pd.DataFrame, scope: Scope, column: str = "village_code") -> pd.DataFrame:
    return df[df[column].fillna("").str.startswith(scope.prefix)]


def states(h: pd.DataFrame, year: int) -> dict[str, pd.Series]:
    """The year-aware states of data_access.queries.common, in pandas."""
    reg = (h["kind"] == REGISTERED) & (h["identified_year"] <= year)
    ret_by = h["returned_year"].notna() & (h["returned_year"] <= year)
    not_ret = h["returned_year"].isna() | (h["returned_year"] > year)
    exited = reg & h["exit_year"].notna() & (h["exit_year"] <= year) & not_ret
    not_exited = reg & (h["exit_year"].isna() | (h["exit_year"] > year)) & not_ret
    returned = reg & ret_by
    return {"registered": reg, "exited": exited, "not_exited": not_exited, "returned": returned,
            "poor": not_exited | returned}


HH_COLS = ["hh_id", "village_code", "member_count", "kind", "main_cause", "attribute", "identified_year",
           "exit_year", "returned_year", "status"]


def households(engine, scope) -> pd.DataFrame:
    return in_scope(read(engine, "household", HH_COLS), scope)


def headline(engine, scope, year) -> dict:
    h = households(engine, scope)
    s = states(h, year)
    out = {}
    for name in ("registered", "exited", "not_exited", "returned"):
        out[f"{name}_households"] = int(s[name].sum())
        out[f"{name}_persons"] = int(h.loc[s[name], "member_count"].sum())
    out["poor_persons"] = int(h.loc[s["poor"], "member_count"].sum())
    r = in_scope(read(engine, "region", ["code", "level", "is_poor_village", "poor_village_exit_year",
                                         "rural_population"]), scope, "code")
    v = r[r["level"] == "village"]
    out["poor_villages"] = int(v["is_poor_village"].astype(bool).sum())
    return out


def fund_totals(engine, scope, year) -> dict:
    f = in_scope(read(engine, "fund", ["fund_id", "region_code", "year", "amount"]), scope, "region_code")
    f = f[f["year"] == year]
    a = read(engine, "arrangement", ["fund_id", "project_id", "amount"])
    m = read(engine, "money_flow", ["fund_id", "project_id", "kind", "amount"])
    ids = set(f["fund_id"])
    flows = m[m["fund_id"].isin(ids)].groupby("kind")["amount"].sum()
    return {"allocated": int(f["amount"].sum()), "arranged": int(a[a["fund_id"].isin(ids)]["amount"].sum()),
            "paid": int(flows.get(codes.MONEY_PAID, 0)), "spent": int(flows.get(codes.MONEY_SPENT, 0))}


def monitoring_totals(engine, scope, year) -> dict:
    mo = in_scope(read(engine, "monitoring_object", ["village_code", "kind", "identified_date", "removed_date",
                                                     "persons"]), scope)
    end = pd.Timestamp(dt.date(year, 12, 31))
    mo = mo[pd.to_datetime(mo["identified_date"]) <= end]
    removed = pd.to_datetime(mo["removed_date"]) <= end
    return {"households": len(mo), "persons": int(mo["persons"].sum()), "removed_households": int(removed.sum())}


# ---- one naive computation per page ----------------------------------------------------


def page_overview(engine, scope, year, sample):
    return {"headline": headline(engine, scope, year), "funds": fund_totals(engine, scope, year),
            "monitoring": monitoring_totals(engine, scope, year)}


def page_causes(engine, scope, year, sample):
    h = households(engine, scope)
    reg = h[states(h, year)["registered"]]
    return reg.groupby("main_cause").agg(households=("hh_id", "size"), persons=("member_count", "sum"))


def page_exits(engine, scope, year, sample):
    h = households(engine, scope)
    by_year = h[states(h, year)["registered"]].groupby("exit_year")["member_count"].agg(["size", "sum"])
    poor = {y: int(h.loc[states(h, y)["poor"], "member_count"].sum()) for y in range(2014, year + 1)}
    return by_year, poor


def page_map(engine, scope, year, sample):
    h = households(engine, scope)
    poor = h[states(h, year)["poor"]].groupby("village_code")["member_count"].sum()
    r = in_scope(read(engine, "region", ["code", "name", "level", "rural_population", "geometry"]), scope, "code")
    v = r[r["level"] == "village"].set_index("code")
    return (poor.reindex(v.index).fillna(0) / v["rural_population"] * 100).round(2)


def page_funds(engine, scope, year, sample):
    f = in_scope(read(engine, "fund", ["fund_id", "source", "region_code", "year", "amount"]), scope, "region_code")
    f = f[f["year"] == year]
    a = read(engine, "arrangement", ["fund_id", "project_id", "amount"])
    m = read(engine, "money_flow", ["fund_id", "project_id", "kind", "amount"])
    p = read(engine, "project", ["project_id", "category", "county_code", "year", "status", "budget"])
    flows = m.merge(f[["fund_id", "source"]], on="fund_id").pivot_table(
        index="source", columns="kind", values="amount", aggfunc="sum", fill_value=0)
    arranged = a.merge(f[["fund_id", "source"]], on="fund_id").groupby("source")["amount"].sum()
    by_category = a.merge(p, on="project_id").groupby("category")["amount"].sum()
    return f.groupby("source")["amount"].sum(), arranged, flows, by_category


def page_monitoring(engine, scope, year, sample):
    mo = in_scope(read(engine, "monitoring_object", ["hh_id", "village_code", "kind", "main_risk",
                                                     "identified_date", "removed_date", "persons"]), scope)
    end = pd.Timestamp(dt.date(year, 12, 31))
    mo = mo[pd.to_datetime(mo["identified_date"]) <= end]
    return mo.groupby("kind")["persons"].agg(["size", "sum"]), mo.groupby("main_risk").size()


def page_help(engine, scope, year, sample):
    end = dt.date(min(year, 2026), 10, 31)
    start = end - dt.timedelta(days=365)
    a = in_scope(read(engine, "assignment", ["helper_id", "hh_id", "start_date", "end_date", "village_code"]), scope)
    on = pd.Timestamp(end)
    a = a[(pd.to_datetime(a["start_date"]) <= on) & (a["end_date"].isna() | (pd.to_datetime(a["end_date"]) >= on))]
    v = in_scope(read(engine, "visit", ["hh_id", "village_code", "visit_date", "kind"]), scope)
    dates = pd.to_datetime(v["visit_date"])
    visited = set(v[(dates >= pd.Timestamp(start)) & (dates <= on)]["hh_id"])
    assigned = set(a["hh_id"])
    return len(assigned & visited) / max(len(assigned), 1) * 100


def page_query(engine, scope, year, sample):
    h = households(engine, scope)
    inc = read(engine, "income", ["hh_id", "year", "per_capita_net"])
    hit = h[(h["main_cause"] == "因病") & states(h, year)["exited"]]
    last = inc[inc["year"] == min(year, 2025)]
    listed = hit.merge(last, on="hh_id", how="left").sort_values("hh_id").head(50)
    return len(hit), listed


def page_household(engine, scope, year, sample):
    hh = sample["hh"]
    h = read(engine, "household", ["hh_id", "village_code", "head_name", "member_count", "main_cause", "status"])
    p = read(engine, "person", ["person_id", "hh_id", "name", "id_number", "relation", "sex", "birth_date",
                                "health", "labour_skill", "work_status"])
    inc = read(engine, "income", ["hh_id", "year", "per_capita_net"])
    vis = read(engine, "visit", ["hh_id", "visit_date", "kind"])
    return h[h["hh_id"] == hh], p[p["hh_id"] == hh], inc[inc["hh_id"] == hh], vis[vis["hh_id"] == hh]


def page_project(engine, scope, year, sample):
    pid = sample["project"]
    p = read(engine, "project", ["project_id", "name", "category", "village_code", "year", "status", "budget"])
    m = read(engine, "money_flow", ["fund_id", "project_id", "kind", "amount", "flow_date"])
    b = read(engine, "project_beneficiary", ["project_id", "hh_id", "amount"])
    return p[p["project_id"] == pid], m[m["project_id"] == pid].groupby("kind")["amount"].sum(), \
        b[b["project_id"] == pid]


PAGES = {
    "overview": page_overview, "map": page_map, "causes": page_causes, "exits": page_exits,
    "funds": page_funds, "monitoring": page_monitoring, "help": page_help, "query": page_query,
    "household": page_household, "project": page_project,
}

AS_OF = dt.date(2026, 10, 31)


def fast_figures(key: str, engine, scope: Scope, year: int, sample: dict):
    """The same figures through data_access (what the page's SQL does), uncached."""
    from data_access.queries import exits, help as helpq, dossier, households as hq, villages

    if key == "overview":
        return overview.headline(engine, scope, year), funds.totals(engine, scope, year), \
            monitoring.totals(engine, scope, year)
    if key == "map":
        return villages.indicators(engine, scope, year, AS_OF)
    if key == "causes":
        return causes.cause_mix(engine, scope, year)
    if key == "exits":
        return exits.progress(engine, scope, 2014, year)
    if key == "funds":
        return funds.execution_by(engine, scope, year, "source"), funds.execution_by(engine, scope, year, "category")
    if key == "monitoring":
        return monitoring.breakdown(engine, scope, year, "kind"), monitoring.breakdown(engine, scope, year, "risk")
    if key == "help":
        end = dt.date(min(year, AS_OF.year), AS_OF.month, AS_OF.day)
        return helpq.visit_rates(engine, scope, (window(end, 365),), "total")
    if key == "query":
        return hq.query_page(engine, scope, hq.HouseholdFilter.from_params({"main_cause": "因病", "status": "已脱贫"}),
                             year)
    if key == "household":
        hh = sample["hh"]
        return (dossier.household_profile(engine, scope, hh, year), dossier.household_members(engine, scope, hh),
                dossier.household_income(engine, scope, hh), dossier.household_visits(engine, scope, hh))
    if key == "project":
        pid = sample["project"]
        return (funds.project_detail(engine, scope, pid, AS_OF), funds.project_money(engine, scope, pid),
                funds.project_beneficiaries(engine, scope, pid))
    raise KeyError(key)


def agreement(engine, scope, year) -> dict:
    """Compare the naive figures with data_access's (they must be the same numbers)."""
    naive = headline(engine, scope, year)
    fast = overview.headline(engine, scope, year)
    checks = {"总览计数": all(naive[k] == fast[k] for k in naive if k in fast)}
    mix = page_causes(engine, scope, year, None)
    fast_mix = causes.cause_mix(engine, scope, year).set_index("cause")
    checks["致贫原因户数"] = int(mix["households"].sum()) == int(fast_mix["households"].sum())
    nf, ff = fund_totals(engine, scope, year), funds.totals(engine, scope, year)
    checks["资金合计"] = all(nf[k] == ff[k] for k in nf if ff.get(k) is not None)
    nm, fm = monitoring_totals(engine, scope, year), monitoring.totals(engine, scope, year)
    checks["监测对象"] = all(nm[k] == fm[k] for k in nm)
    return checks


def run(url: str, page_keys: list[str] | None = None) -> dict:
    """Per page: seconds the naive way and through data_access (same figures, no cache), and their ratio."""
    import resource

    engine = get_engine(url)
    sample = samples(engine)
    scope = Scope.of(sample["root"])
    year = sample["last_year"]
    results = []
    for key, fn in PAGES.items():
        if page_keys and key not in page_keys:
            continue
        page_scope = Scope.of(sample["county"]) if key in ("household", "project") else scope
        started = time.perf_counter()
        fast_figures(key, engine, page_scope, year, sample)
        fast = time.perf_counter() - started
        started = time.perf_counter()
        fn(engine, page_scope, year, sample)
        naive = time.perf_counter() - started
        results.append({"page": key, "seconds": round(naive, 3), "fast_seconds": round(fast, 3),
                        "figure_ratio": round(naive / max(fast, 1e-9), 1)})
        print(f"  [naive] {key}: naive {naive:.2f} s, data_access {fast:.2f} s", file=sys.stderr, flush=True)
    checks = agreement(engine, scope, year) if not page_keys or "overview" in page_keys else {}
    return {"results": results, "agrees": checks,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}
