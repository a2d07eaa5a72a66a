"""Display names (data_access.names): the rule in Python and in SQL agree, on both backends, and the
place queries give the display name while the dossier keeps the official one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import literal, select

from data_access.names import display_name, display_name_sql, match_key
from data_access.queries import places, villages
from data_access.scope import Scope
from tests.county_shapes import officialise
from tests.helpers import COUNTY_CODE

REAL_SHAPED = {
    "香坪村村民委员会": "香坪村",
    "香坪村民委员会": "香坪村",
    "河口社区居民委员会": "河口社区",
    "河口社区居委会": "河口社区",
    "城关居民委员会": "城关社区",
    "白果居委会": "白果社区",
    "妈姑村委会": "妈姑村",
    "新村村村委会": "新村村",
    "新村社区居民委员会": "新村社区",
    "白果街道办事处": "白果街道",
    "财神镇": "财神镇",
    "双坪彝族苗族乡": "双坪彝族苗族乡",
    "香坪村": "香坪村",
    "村民委员会": "村民委员会",  # nothing but the suffix: left as it is
    "": "",
}


@pytest.mark.parametrize("official,shown", REAL_SHAPED.items())
def test_display_name(official, shown):
    assert display_name(official) == shown


def test_display_name_blank_and_none():
    assert display_name(None) == ""
    assert display_name("  香坪村村民委员会 ") == "香坪村"


def test_sql_rule_equals_python_rule(registry_engine):
    with registry_engine.connect() as conn:
        for official in REAL_SHAPED:
            got = conn.execute(select(display_name_sql(literal(official)))).scalar_one()
            assert got == display_name(official), official


def test_match_key():
    assert {match_key(n) for n in ("香坪村村民委员会", "香坪村民委员会", "香坪村", "香坪", " 香坪 村 ")} == {"香坪"}
    assert match_key("河口社区居民委员会") == match_key("河口社区") == "河口"


def test_place_queries_show_display_names(registry_url, cloner, sql):
    url = cloner(registry_url, prefix="names")
    names = officialise(url)
    from data_access.db import get_engine

    engine = get_engine(url)
    county = Scope.of(COUNTY_CODE)
    q = sql(url)
    official = dict(q.rows("SELECT code, name FROM region WHERE level = 'village'"))
    assert official == names and all(n.endswith("委员会") or n.endswith("村委会") for n in official.values())
    geo = places.geometries(engine, county, "village")
    assert dict(zip(geo.code, geo.name)) == {c: display_name(n) for c, n in official.items()}
    assert any(n.endswith("社区") for n in geo.name) and not any("委员会" in n or "委会" in n for n in geo.name)
    tree = places.region_tree(engine, county)
    assert not tree.name.str.contains("委").any()
    ind = villages.indicators(engine, county, 2026, dt.date(2026, 10, 31))
    assert dict(zip(ind.code, ind.name)) == {c: display_name(n) for c, n in official.items()}
    first = sorted(official)[0]
    info = places.region_info(engine, Scope.of(first))
    assert info["official_name"] == official[first] and info["name"] == display_name(official[first])
    assert [r["name"] for r in places.lineage(engine, first)][-1] == display_name(official[first])


def test_village_file_shows_the_registered_name_too(registry_url, cloner, sql):
    from tests.helpers import open_page

    url = cloner(registry_url, prefix="names-page")
    names = officialise(url)
    code = sorted(names)[0]
    at = open_page(url, "pages/village.py", region=code, year=2026)
    assert not at.exception, at.exception
    header = next(h.proto.body for h in at.get("html") if "农村户籍人口" in h.proto.body)
    assert f">{display_name(names[code])}<" in header and f"登记名称 {names[code]}" in header
