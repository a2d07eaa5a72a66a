"""Loading village and township boundaries from GeoJSON (data_access.boundaries and the CLI).

Each test writes to a database of its own (a demo generated with another seed), on SQLite and
PostgreSQL; the shared read-only demo database is never touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from data_access import boundaries
from data_access.db import get_engine
from tests.helpers import ROOT

SEED = 23


@pytest.fixture(params=["sqlite", "postgresql"])
def writable_db(request, tmp_path):
    """A fresh small demo database per test (the loader writes)."""
    from tests.helpers import demo_module

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url = request.getfixturevalue("pg_database")("boundaries")
    demo_module().generate(get_engine(url), scale="small", seed=SEED)
    return url


def features_of(q, level):
    rows = q.rows("SELECT code, name, geometry FROM region WHERE level = :l ORDER BY code", l=level)
    return [{"type": "Feature", "properties": {"code": c, "name": n}, "geometry": json.loads(g)} for c, n, g in rows]


def write(tmp_path, features, name="b.geojson", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding=encoding)
    return path


def test_load_report_and_geometry(writable_db, sql, tmp_path):
    q = sql(writable_db)
    villages = features_of(q, "village")
    towns = features_of(q, "town")
    village_codes = [f["properties"]["code"] for f in villages]
    left_out = village_codes[:2]
    kept = villages[2:]
    # Move every kept village a little, so that the update is visible; vary the code property.
    for i, f in enumerate(kept):
        for ring in f["geometry"]["coordinates"]:
            for pt in ring:
                pt[0] += 0.01
        code = f["properties"].pop("code")
        f["properties"][("区划代码", "village_code", "CODE")[i % 3]] = int(code) if i % 3 == 2 else code
    towns[0]["properties"] = {"XZQDM": towns[0]["properties"]["code"] + "121"}  # 15-digit code
    extra = [
        {"type": "Feature", "properties": {"code": "523199999999"}, "geometry": kept[0]["geometry"]},
        {"type": "Feature", "properties": {"名称": "无代码"}, "geometry": kept[0]["geometry"]},
        {"type": "Feature", "properties": {"code": towns[1]["properties"]["code"]},
         "geometry": {"type": "Point", "coordinates": [105.0, 27.0]}},
        {"type": "Feature", "properties": {"code": towns[2]["properties"]["code"]},
         "geometry": {"type": "Polygon", "coordinates": [[[500000, 3000000], [500100, 3000000], [500100, 3000100],
                                                          [500000, 3000000]]]}},
    ]
    path = write(tmp_path, kept + [towns[0]] + extra)
    version = q.scalar("SELECT value FROM meta WHERE key='data_version'")
    before = dict(q.rows("SELECT code, geometry FROM region WHERE level='village'"))

    engine = get_engine(writable_db)
    refused = boundaries.load(engine, path)  # partial: nothing written without accept_partial
    assert refused.refused and "--accept-partial" in refused.text() and "数据库未改动" in refused.text()
    assert q.scalar("SELECT value FROM meta WHERE key='data_version'") == version
    assert dict(q.rows("SELECT code, geometry FROM region WHERE level='village'")) == before

    report = boundaries.load(engine, path, accept_partial=True)

    assert not report.refused and report.features == len(kept) + 1 + len(extra)
    assert report.matched == {"village": len(kept), "town": 1}
    reasons = {code: why for _, code, why in report.unmatched}
    assert set(reasons) == {"523199999999", "", towns[1]["properties"]["code"], towns[2]["properties"]["code"]}
    assert "Point" in reasons[towns[1]["properties"]["code"]]
    assert "经纬度" in reasons[towns[2]["properties"]["code"]]
    assert [c for c, _ in report.villages_without] == left_out
    text = report.text()
    assert "未能匹配的要素 4 个" in text and left_out[0] in text

    after = dict(q.rows("SELECT code, geometry FROM region WHERE level='village'"))
    for f in kept:
        code = next(str(v) for k, v in f["properties"].items() if k in boundaries.CODE_FIELDS)
        stored = json.loads(after[code])
        assert stored["coordinates"][0][0][0] == pytest.approx(f["geometry"]["coordinates"][0][0][0], abs=1e-6)
        lon = q.scalar("SELECT lon FROM region WHERE code=:c", c=code)
        ring = stored["coordinates"][0]
        assert min(p[0] for p in ring) < lon < max(p[0] for p in ring)
    for code in left_out:
        assert after[code] == before[code]  # kept without --clear-missing
    new_version = q.scalar("SELECT value FROM meta WHERE key='data_version'")
    assert new_version != version
    assert q.scalar("SELECT value FROM meta WHERE key='summary_version'") == new_version  # summaries rebuilt
    assert q.scalar("SELECT rows_written FROM import_log ORDER BY id DESC") == len(kept) + 1


def test_clear_missing_and_dry_run(writable_db, sql, tmp_path):
    q = sql(writable_db)
    villages = features_of(q, "village")
    path = write(tmp_path, villages[1:])
    missing = villages[0]["properties"]["code"]

    dry = boundaries.load(get_engine(writable_db), path, clear_missing=True, dry_run=True)
    assert dry.dry_run and [c for c, _ in dry.villages_without] == [missing]
    assert q.scalar("SELECT geometry FROM region WHERE code=:c", c=missing) is not None

    report = boundaries.load(get_engine(writable_db), path, clear_missing=True, accept_partial=True)
    assert report.cleared == 1
    assert q.scalar("SELECT geometry FROM region WHERE code=:c", c=missing) is None
    assert q.scalar("SELECT lon FROM region WHERE code=:c", c=missing) is not None  # still drawn at its centre


def test_cli(writable_db, sql, tmp_path, capsys):
    from data_access.__main__ import main

    q = sql(writable_db)
    path = write(tmp_path, features_of(q, "village")[:3], encoding="gb18030")
    assert main(["boundaries", str(path), "--db", writable_db, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "将更新边界:村 3 个" in out and "没有对应要素的行政村" in out

    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["boundaries", str(bad), "--db", writable_db]) == 1
    assert "不是有效的 GeoJSON" in capsys.readouterr().err

    nothing = write(tmp_path, [{"type": "Feature", "properties": {}, "geometry": None}], name="none.geojson")
    assert main(["boundaries", str(nothing), "--db", writable_db]) == 1
    assert "没有12位区划代码" in capsys.readouterr().out

    if writable_db.startswith("sqlite"):  # the real command line, once
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-m", "data_access", "boundaries", str(bad), "--db", writable_db],
                             capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
        assert run.returncode == 1 and "不是有效的 GeoJSON" in run.stderr and "Traceback" not in run.stderr
