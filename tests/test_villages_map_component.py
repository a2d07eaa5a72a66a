"""components.maps.village_map on its own (as the monitoring page reuses it): classes, legend,
tooltips, overlay points and the picked code, for both renderers."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from components.charts.maps import picked_code


def _map_script(db_url: str, scope_code: str, renderer: str):
    import pandas as pd
    import streamlit as st

    from components.context import PageContext
    from components.charts.maps import village_map
    from data_access.queries import places
    from data_access.db import get_engine
    from data_access.scope import Scope

    scope = Scope.of(scope_code)
    ctx = PageContext(db_url=db_url, data_version="t", scope=scope, year=2026, first_year=2014, last_year=2026,
                      as_of="2026-10-31", is_demo=True, region_name="x")
    geo = places.geometries(get_engine(db_url), scope, "village")
    values = pd.DataFrame({"code": geo["code"], "value": range(len(geo)), "t_a": [f"第{i}" for i in range(len(geo))]})
    overlay = pd.DataFrame({"lon": geo["lon"][:3], "lat": geo["lat"][:3], "tip": ["甲", "乙", "丙"],
                            "size": [1, 2, 3], "code": geo["code"][:3]})
    st.session_state["picked"] = village_map(ctx, values, "测试指标", "人", key="t", tooltip_columns={"t_a": "附注"},
                                             overlay=overlay, overlay_label="监测对象", renderer=renderer)


@pytest.mark.parametrize("renderer", ["vega", "pydeck"])
def test_village_map_component(sqlite_demo_url, sql, renderer):
    q = sql(sqlite_demo_url)
    county = q.scalar("SELECT code FROM region WHERE level='county'")
    n = q.scalar("SELECT COUNT(*) FROM region WHERE level='village'")
    at = AppTest.from_function(_map_script, args=(sqlite_demo_url, county, renderer), default_timeout=60).run()
    assert not at.exception, at.exception
    legend = "".join(h.proto.body for h in at.get("html"))
    assert "测试指标(人)" in legend and "监测对象" in legend and "3 处" in legend
    counts = [int(x) for x in __import__("re").findall(r'class="n">(\d+) 个村', legend)]
    assert sum(counts) == n  # every village in one class (values 0..n-1, none missing)
    if renderer == "vega":
        spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
        data = [layer["data"]["values"] for layer in spec["layer"] if "data" in layer]
        villages = next(d for d in data if d and "cls" in d[0])
        assert len(villages) == n and all(v["tip2"].startswith("第") for v in villages)
        assert {p["name"] for p in spec["params"]} == {"pick", "zoom", "spot"}
        overlay = next(d for d in data if d and "tip" in d[0] and "size" in d[0])
        assert [o["tip"] for o in overlay] == ["甲", "乙", "丙"]
    else:
        spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
        layers = {layer["id"]: layer for layer in spec["layers"]}
        assert len(layers["villages"]["data"]) == n and len(layers["overlay"]["data"]) == 3
        assert spec.get("mapStyle") == "__MAP_STYLE__"
    assert at.session_state["picked"] is None


def test_picked_code():
    assert picked_code(None) is None
    assert picked_code({"selection": {"pick": [{"code": "523199101201"}]}}) == "523199101201"
    assert picked_code({"selection": {"zoom": [{"code": "523199101000"}], "pick": []}}) == "523199101000"
    assert picked_code({"selection": {"objects": {"labels": [{"code": "523199101000"}]}, "indices": {}}}) \
        == "523199101000"
    assert picked_code({"selection": {"pick": [{"code": "x' or 1=1"}]}}) is None
