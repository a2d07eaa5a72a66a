"""Global filters kept in the URL: ``?region=<12-digit code>&year=<yyyy>``.

The URL is the state: each run reads it, validates it against the user's root
region and the data's years, and the sidebar pickers write changes back to it,
so a copied link reopens the same view and the browser's back button works.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from data_access.scope import Scope

from ..widgets import url_whole
from ..safe import md

LAST_KEY = "_last_view"


class BadParameter(ValueError):
    """A URL parameter that cannot be used (message in Chinese)."""


def _clean(value) -> str:
    return str(value or "").strip()[:64]


def parse_region(raw: str, root: Scope, tree: pd.DataFrame) -> Scope:
    """The region asked for in the URL, or the root. Raises BadParameter if invalid or out of scope."""
    raw = _clean(raw)
    if not raw:
        return root
    if not re.fullmatch(r"[0-9]{12}", raw):
        raise BadParameter(f"区划代码应为12位数字,收到的是“{raw[:24]}”。")
    scope = Scope.of(raw)
    if not scope.within(root):
        raise BadParameter(f"区划 {raw} 不在本账号的数据范围({root.code})之内,无法查看。")
    if raw not in set(tree["code"]):
        raise BadParameter(f"数据库中没有区划代码 {raw}。")
    return scope


def parse_year(raw: str, first: int, last: int) -> int:
    raw = _clean(raw)
    if not raw:
        return last
    year = url_whole(raw) if len(raw) == 4 else None
    if year is None:
        raise BadParameter(f"年度应为4位数字,收到的是“{raw[:24]}”。")
    if not first <= year <= last:
        raise BadParameter(f"年度 {year} 不在数据年份范围 {first}–{last} 之内。")
    return year


@st.cache_data(show_spinner=False, ttl=3600)
def _above(db_url: str, data_version: str, root_code: str) -> tuple[dict, ...]:
    """The regions above the root (outside the root's region tree), from the top down."""
    from data_access.db import get_engine
    from data_access.queries.places import lineage as lineage_of

    return tuple(lineage_of(get_engine(db_url), root_code)[:-1])


def lineage(tree: pd.DataFrame, scope: Scope, root: Scope, db_url: str, data_version: str) -> tuple[dict, ...]:
    """The chain of regions from the top down to ``scope``: the root's region tree holds it up to the
    root; the regions above the root are read once per database version and root."""
    c = scope.code
    candidates = {c, c[:9] + "000", c[:6] + "000000", c[:4] + "00000000", c[:2] + "0000000000"}
    near = tree[tree["code"].isin(candidates)]  # a region's ancestors share its code's leading digits
    rows = dict(zip(near["code"], zip(near["name"], near["level"], near["parent_code"])))
    chain, code = [], scope.code
    while code in rows:
        name, level, parent = rows[code]
        chain.append({"code": code, "name": name, "level": level, "parent_code": parent})
        if code == root.code:
            break
        code = parent
    above = _above(db_url, data_version, root.code) if root.code in rows and rows[root.code][2] else ()
    return above + tuple(reversed(chain))


def remember(scope: Scope, year: int) -> None:
    st.session_state[LAST_KEY] = {"region": scope.code, "year": str(year)}


def restore_missing_params() -> None:
    """After a page switch the URL loses its parameters: put the last view back."""
    last = st.session_state.get(LAST_KEY)
    if not last:
        return
    for key, value in last.items():
        if key not in st.query_params:
            st.query_params[key] = value


def sidebar_pickers(tree: pd.DataFrame, root: Scope, scope: Scope, year: int, first: int, last: int) -> None:
    """市(州) / 县(区) / 乡镇 / 行政村 / 年度 pickers in the sidebar. A change writes the URL and reruns."""
    names = dict(zip(tree["code"], tree["name"]))
    with st.sidebar:
        st.markdown(f"**数据范围**:{md(names.get(root.code, root.code))}")
        new_scope = scope
        if root.level in ("province", "city", "county"):
            towns = tree[(tree["level"] == "town")]
            city_root = root  # the widest region the county picker lists under (a city picked in a province)
            if root.level == "province":
                city_codes = [""] + list(tree[tree["level"] == "city"]["code"])
                current_city = scope.code[:4] + "00000000" if scope.level != "province" else ""
                current_city = current_city if current_city in city_codes else ""  # no 市 row: stay put
                if len(city_codes) > 1:
                    pick = st.selectbox("市(州)", city_codes, index=city_codes.index(current_city),
                                        format_func=lambda c: "全部" if not c else names.get(c, c))
                    if pick != current_city:
                        new_scope = Scope.of(pick) if pick else root
                    elif pick:
                        city_root = Scope.of(pick)
            if root.level != "county" and new_scope == scope:
                counties = tree[tree["level"] == "county"]
                if city_root.level == "city":  # by code, as the scope itself is (Scope.where)
                    counties = counties[counties["code"].str.startswith(city_root.prefix)]
                county_codes = [""] + list(counties["code"])
                current_county = scope.code[:6] + "000000" if scope.level in ("county", "town", "village") else ""
                pick = st.selectbox("县(区)", county_codes, index=county_codes.index(current_county)
                                    if current_county in county_codes else 0,
                                    format_func=lambda c: "全部" if not c else names.get(c, c))
                if pick != current_county:
                    new_scope = Scope.of(pick) if pick else city_root
                towns = towns[towns["parent_code"] == (pick or "__none__")]
            town_codes = [""] + list(towns["code"])
            current_town = scope.code[:9] + "000" if scope.level in ("town", "village") else ""
            if len(town_codes) > 1 and new_scope == scope:
                pick = st.selectbox("乡镇", town_codes, index=town_codes.index(current_town)
                                    if current_town in town_codes else 0,
                                    format_func=lambda c: "全部" if not c else names.get(c, c))
                if pick != current_town:
                    new_scope = Scope.of(pick) if pick else Scope.of(scope.code[:6] + "000000")
        if new_scope == scope and scope.level in ("town", "village") or root.level == "town":
            town = scope.code[:9] + "000" if scope.level != "county" else None
            villages = tree[(tree["level"] == "village") & (tree["parent_code"] == town)]
            village_codes = [""] + list(villages["code"])
            current_village = scope.code if scope.level == "village" else ""
            if len(village_codes) > 1:
                pick = st.selectbox("行政村", village_codes, index=village_codes.index(current_village)
                                    if current_village in village_codes else 0,
                                    format_func=lambda c: "全部" if not c else names.get(c, c))
                if pick != current_village:
                    new_scope = Scope.of(pick) if pick else Scope.of(town)
        years = list(range(last, first - 1, -1))
        new_year = st.selectbox("年度", years, index=years.index(year), format_func=lambda y: f"{y}年")
    if new_scope != scope or new_year != year:
        st.query_params["region"] = new_scope.code
        st.query_params["year"] = str(new_year)
        st.rerun()
