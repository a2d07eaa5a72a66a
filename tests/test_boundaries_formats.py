"""Boundary files in the formats a county holds (data_access.boundaries): a Shapefile and a GeoPackage in
a CGCS2000 Gauss–Krüger zone, a GeoJSON in lon/lat and one in the zone with a "crs" member, written here
with pyogrio from the demo's own village polygons, give the same villages at the same places (within a
few metres); a file without codes matches by township + village name; a broken file is refused with a
Chinese message and nothing written.

Each test writes to a database of its own (demo seed 23, both backends); the demo's polygons, read with
SQL before they are cleared, are the reference."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pyogrio
import pyogrio.raw
import pyproj
import pytest
import shapely

from data_access import boundaries
from data_access.db import get_engine
from tests.county_shapes import officialise
from tests.helpers import ROOT

SEED = 23
GK_ZONE_35 = "EPSG:4544"  # CGCS2000 / 3-degree Gauss-Kruger CM 105E (the demo county lies at 105°E)
GK_ZONE_35_PREFIXED = "EPSG:4523"  # the same zone with the zone number (35) in front of the easting


@pytest.fixture(params=["sqlite", "postgresql"])
def county_db(request, tmp_path):
    """A fresh small demo database; returns (url, reference) with reference = {code: (name, town, polygon)}."""
    from tests.helpers import demo_module

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'f.db'}"
    else:
        url = request.getfixturevalue("pg_database")("bformats")
    demo_module().generate(get_engine(url), scale="small", seed=SEED)
    from tests.helpers import SqlRunner

    q = SqlRunner(get_engine(url))
    rows = q.rows("SELECT v.code, v.name, t.name, v.geometry FROM region v JOIN region t ON t.code = v.parent_code "
                  "WHERE v.level = 'village' ORDER BY v.code")
    reference = {code: (name, town, shapely.from_geojson(geom)) for code, name, town, geom in rows}
    return url, reference


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * 111_320 * math.cos(lat), (a[1] - b[1]) * 110_574)


def projected(polygons, crs: str):
    to = pyproj.Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    return [shapely.transform(p, lambda c: np.column_stack(to.transform(c[:, 0], c[:, 1]))) for p in polygons]


def write(path, polygons, fields: dict, crs: str, driver: str, **options):
    names = list(fields)
    pyogrio.raw.write(path, geometry=shapely.to_wkb(np.array(polygons, dtype=object)),
                  field_data=[np.array(fields[n], dtype=object) for n in names], fields=names, crs=crs,
                  driver=driver, geometry_type="MultiPolygon" if driver != "ESRI Shapefile" else "Polygon",
                  promote_to_multi=driver != "ESRI Shapefile", **options)
    return path


def bow_tie(polygon):
    """The polygon with two neighbouring vertices swapped: a self-intersecting ring that make_valid must repair."""
    ring = list(polygon.exterior.coords)[:-1]
    for i in range(len(ring) - 1):
        twisted = list(ring)
        twisted[i], twisted[i + 1] = twisted[i + 1], twisted[i]
        out = shapely.Polygon(twisted + [twisted[0]])
        if not out.is_valid:
            return out
    raise AssertionError("no vertex swap makes this polygon invalid")


def stored(q) -> dict[str, tuple[float, float, dict]]:
    return {c: (lon, lat, json.loads(g)) for c, lon, lat, g in q.rows(
        "SELECT code, lon, lat, geometry FROM region WHERE level = 'village' AND geometry IS NOT NULL")}


def clear(q):
    q.engine.dispose()
    with q.engine.begin() as conn:
        from sqlalchemy import text
        conn.execute(text("UPDATE region SET geometry = NULL, lon = NULL, lat = NULL WHERE level = 'village'"))


def test_three_formats_same_villages_same_places(county_db, sql, tmp_path):
    url, reference = county_db
    q = sql(url)
    codes = sorted(reference)
    lonlat = [reference[c][2] for c in codes]
    broken = list(lonlat)
    broken[0] = bow_tie(broken[0])
    towns = [reference[c][1] for c in codes]
    files = {
        "shp": write(tmp_path / "村界.shp", projected(broken, GK_ZONE_35), {"XZQDM": codes, "XZQMC": towns},
                     GK_ZONE_35, "ESRI Shapefile", encoding="UTF-8"),
        "gpkg": write(tmp_path / "村界.gpkg", projected(broken, GK_ZONE_35_PREFIXED),
                      {"ZLDWDM": [c + "0000000" for c in codes]}, GK_ZONE_35_PREFIXED, "GPKG"),
        "geojson": write(tmp_path / "村界.geojson", broken, {"code": codes}, "EPSG:4326", "GeoJSON"),
        # an older GeoJSON in the zone's metres, naming it in a "crs" member (GDAL writes one)
        "geojson-gk": write(tmp_path / "村界GK.geojson", projected(broken, GK_ZONE_35), {"code": codes}, GK_ZONE_35,
                            "GeoJSON"),
    }
    assert "4544" in json.dumps(json.loads(files["geojson-gk"].read_text(encoding="utf-8"))["crs"])
    engine = get_engine(url)
    places = {}
    for kind, path in files.items():
        clear(q)
        report = boundaries.load(engine, path)
        assert not report.partial and report.matched.get("village") == len(codes), (kind, report.text())
        assert report.repaired >= 1 and "修复" in report.text()
        if kind != "geojson":
            assert ("4523" if kind == "gpkg" else "4544") in report.crs, report.crs
        places[kind] = stored(q)
        assert sorted(places[kind]) == codes
    for code, poly in zip(codes[1:], lonlat[1:]):  # the unbroken ones: at the demo's place, from every file
        ref = (poly.centroid.x, poly.centroid.y)
        for kind in files:
            lon, lat, geom = places[kind][code]
            assert metres(ref, (lon, lat)) < 5, (kind, code)
            shape = shapely.geometry.shape(geom)
            assert shape.is_valid and shape.symmetric_difference(poly).area / poly.area < 0.01, (kind, code)
    for kind in files:  # the repaired bow-tie is valid and where the village was
        shape = shapely.geometry.shape(places[kind][codes[0]][2])
        assert shape.is_valid and shape.intersects(lonlat[0])


def test_no_code_matches_by_township_and_name(county_db, sql, tmp_path):
    url, reference = county_db
    q = sql(url)
    officialise(url, strip_geometry=False)  # the registry holds 香坪村村民委员会-style names
    official = dict(q.rows("SELECT code, name FROM region WHERE level = 'village'"))
    codes = sorted(reference)
    # The file as the land survey names them: some with the official suffix, some bare, in GBK, no codes.
    names = [official[c] if i % 2 else reference[c][0].removesuffix("村") for i, c in enumerate(codes)]
    towns = [reference[c][1] for c in codes]
    path = write(tmp_path / "无代码.shp", projected([reference[c][2] for c in codes], GK_ZONE_35),
                 {"村名": names, "乡镇": towns}, GK_ZONE_35, "ESRI Shapefile", encoding="GBK")
    os.remove(path.with_suffix(".cpg"))  # as ArcGIS in China leaves them: GBK without a .cpg
    clear(q)
    report = boundaries.load(get_engine(url), path)
    assert report.by_name == len(codes) and not report.partial, report.text()
    got = stored(q)
    for c in codes:
        poly = reference[c][2]
        assert metres((poly.centroid.x, poly.centroid.y), got[c][:2]) < 5


def test_same_name_without_township_is_ambiguous_and_partial_refused(county_db, sql, tmp_path):
    url, reference = county_db
    q = sql(url)
    codes = sorted(reference)
    a, b = codes[0], codes[-1]  # villages of two different townships
    assert a[:9] != b[:9]
    with q.engine.begin() as conn:
        from sqlalchemy import text
        conn.execute(text("UPDATE region SET name = '同名村' WHERE code IN (:a, :b)"), {"a": a, "b": b})
    names = ["同名村村民委员会" if c in (a, b) else reference[c][0] for c in codes]
    path = write(tmp_path / "同名.gpkg", projected([reference[c][2] for c in codes], GK_ZONE_35),
                 {"name": names}, GK_ZONE_35, "GPKG")
    clear(q)
    version = q.scalar("SELECT value FROM meta WHERE key = 'data_version'")
    report = boundaries.load(get_engine(url), path)
    assert [sorted(c) for _, _, c in report.ambiguous] == [sorted([a, b])] * 2
    assert report.refused and "名称有歧义的要素 2 个" in report.text()
    assert q.scalar("SELECT COUNT(*) FROM region WHERE geometry IS NOT NULL AND level = 'village'") == 0
    assert q.scalar("SELECT value FROM meta WHERE key = 'data_version'") == version
    report = boundaries.load(get_engine(url), path, accept_partial=True)
    assert sorted(stored(q)) == [c for c in codes if c not in (a, b)]


def test_broken_files_are_refused_and_nothing_written(county_db, sql, tmp_path, capsys):
    from data_access.__main__ import main

    url, reference = county_db
    q = sql(url)
    before = q.rows("SELECT code, geometry, lon, lat FROM region ORDER BY code")
    version = q.scalar("SELECT value FROM meta WHERE key = 'data_version'")
    shp = tmp_path / "坏.shp"
    shp.write_bytes(b"\x00\x00\x27\x0a not a shapefile" * 10)
    gpkg = tmp_path / "坏.gpkg"
    gpkg.write_text("这不是 GeoPackage", encoding="utf-8")
    codes = sorted(reference)
    nocrs = write(tmp_path / "无坐标系.shp", projected([reference[c][2] for c in codes], GK_ZONE_35),
                  {"code": codes}, GK_ZONE_35, "ESRI Shapefile", encoding="UTF-8")
    os.remove(nocrs.with_suffix(".prj"))
    for path in (shp, gpkg, tmp_path / "没有这个文件.shp"):
        with pytest.raises(boundaries.BoundaryError) as err:
            boundaries.load(get_engine(url), path)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(err.value))
        assert main(["boundaries", str(path), "--db", url]) == 1
        assert "Traceback" not in capsys.readouterr().err
    # Gauss–Krüger metres without a .prj: every feature reported, nothing written; with --crs it loads.
    report = boundaries.load(get_engine(url), nocrs)
    assert report.written == 0 and all("--crs" in why for _, _, why in report.unmatched)
    assert q.rows("SELECT code, geometry, lon, lat FROM region ORDER BY code") == before
    assert q.scalar("SELECT value FROM meta WHERE key = 'data_version'") == version
    assert main(["boundaries", str(nocrs), "--db", url, "--crs", GK_ZONE_35, "--dry-run"]) == 0
    assert f"将更新边界:村 {len(codes)} 个" in capsys.readouterr().out
    if url.startswith("sqlite"):  # the real command line, once: a partial file asks for --accept-partial
        part = write(tmp_path / "部分.gpkg", projected([reference[c][2] for c in codes[:3]], GK_ZONE_35),
                     {"code": codes[:3]}, GK_ZONE_35, "GPKG")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "data_access", "boundaries", str(part), "--db", url]
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
        assert run.returncode == 2 and "--accept-partial" in run.stdout and "Traceback" not in run.stderr
        assert q.rows("SELECT code, geometry, lon, lat FROM region ORDER BY code") == before
        run = subprocess.run(cmd + ["--accept-partial"], capture_output=True, text=True, cwd=ROOT, env=env,
                             timeout=120)
        assert run.returncode == 0 and "已更新边界:村 3 个" in run.stdout
