"""数据管理 page in AppTest: who may do what, the figures shown equal the importer's and the log's, caches refresh."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from components import import_ui
from data_access import auth, db
from data_access.importer import samples as S, run as importer, spec
from data_access.scope import Scope
from tests.helpers import metrics, open_page

SECRET = "import-page-secret-import-page-secret-0123456789"
PAGE = "pages/data_admin.py"
COUNTY = "523199000000"


@pytest.fixture(scope="module")
def page_db(make_db, cloner):
    """A SQLite copy of the seed-11 demo with a few imports logged (one failing, one dry run, one write)."""
    url = cloner(make_db("small", 11, backend="sqlite"), "import_page")
    engine = db.get_engine(url)
    importer.run_import(engine, None, [("坏.xlsx", b"PK\x03\x04broken")], user="张三")
    places = S.csv_bytes(*S.sheet_from_db(engine, "places"), encoding="gbk")
    importer.run_import(engine, None, [("区划.csv", places)], user="李四", dry_run=True)
    importer.run_import(engine, None, [("区划.csv", places)], user="李四")
    return url, engine


def scopes(engine):
    with engine.connect() as conn:
        town = conn.execute(text("SELECT MIN(code) FROM region WHERE level='town'")).scalar()
        village = conn.execute(text("SELECT MIN(code) FROM region WHERE parent_code=:t"), {"t": town}).scalar()
    return [COUNTY, town, village]


def frame(at, first_column: str):
    return next(df.value for df in at.dataframe if df.value.columns[0] == first_column)


@pytest.mark.parametrize("level", [0, 1, 2])
def test_page_opens_at_every_scope_and_lists_the_log(page_db, monkeypatch, level):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    url, engine = page_db
    at = open_page(url, PAGE, region=scopes(engine)[level])
    assert not at.exception and not at.error
    assert "开放演示模式" in at.info[0].value and "校验" in at.info[0].value
    buttons = {b.label: b for b in at.button}
    assert buttons["校验并导入"].disabled  # open mode: validation only
    region = Scope.of(scopes(engine)[level])
    with engine.connect() as conn:  # a run is shown within its region; unlimited runs are the county's
        expected = conn.execute(text("SELECT id, file_name, user_id, rows_read, rows_written, rows_rejected, dry_run "
                                     "FROM import_log WHERE region_code LIKE :p OR (:county AND region_code IS NULL) "
                                     "ORDER BY id DESC LIMIT 50"),
                                {"p": region.prefix + "%", "county": region.level == "county"}).all()
    if not expected:
        assert any("还没有导入记录" in i.value for i in at.info)
        return
    log = frame(at, "编号")
    assert [tuple(r) for r in log[["编号", "文件名", "操作人", "读取(行)", "写入(行)", "拒绝(行)"]]
            .itertuples(index=False)] == [tuple(r[:6]) for r in expected]
    assert list(log["试导入"]) == ["是" if r[6] else "否" for r in expected]
    kinds = frame(at, "工作表")
    assert list(kinds["工作表"]) == [k.title for k in spec.SHEET_KINDS]


def test_result_figures_equal_the_importer_report(page_db, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    url, engine = page_db
    headers, rows = S.sheet_from_db(engine, "persons", Scope.of(scopes(engine)[2]))
    rows[0][headers.index("证件号码")] = "5.22428E+17"
    result = importer.run_import(engine, None, [("名单.xlsx", S.xlsx_bytes([("人员", headers, rows)]))],
                                 dry_run=True, skip_invalid=True)
    at = open_page(url, None)
    at.session_state[import_ui.RESULT_KEY] = result
    at.switch_page(PAGE).run()
    assert not at.exception
    shown = metrics(at)
    assert shown["读取的行(行)"] == f"{len(rows):,}"
    hh = headers.index("户编号")
    assert shown["拒绝的行(行)"] == str(sum(1 for r in rows if r[hh] == rows[0][hh]))
    assert shown["错误(处)"] == str(len(result.errors))
    files = next(df.value for df in at.dataframe if "文件问题" in df.value.columns)
    assert list(files["读取(行)"]) == [len(rows)]
    listed = next(df.value for df in at.dataframe if "问题" in df.value.columns)
    assert [tuple(r) for r in listed.itertuples(index=False)] == [p.as_tuple() for p in result.problems]
    assert listed.iloc[0]["问题"] == "证件号码已被 Excel 转为科学计数法,后几位数字已丢失"
    assert [d.label for d in at.get("download_button")] == ["下载问题清单(Excel)", "下载导入模板(Excel)"]


def test_admin_may_import_other_roles_may_not_open(page_db, monkeypatch):
    monkeypatch.setenv("REGISTRY_AUTH_SECRET", SECRET)
    url, _ = page_db
    at = open_page(url, PAGE, token=auth.make_token(SECRET, "admin1", "管理员甲", COUNTY, "管理员"))
    assert not at.exception and not at.error and not at.info
    assert "校验并导入" in [b.label for b in at.button]
    for role in ("工作人员", "领导"):  # the page is not even registered for them
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            open_page(url, PAGE, token=auth.make_token(SECRET, "u1", "乙", COUNTY, role))


def test_page_figures_refresh_after_an_import(page_db, monkeypatch):
    """Figures are cached by data version: a raw change is not seen, an import (which bumps it) is."""
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    url, engine = page_db
    # the campaign headline (建档立卡户数) is the overview's up to 2020; from 2021 it leads with 脱贫人口
    count = "SELECT COUNT(*) FROM household WHERE kind='建档立卡户' AND identified_year <= 2020"
    with engine.connect() as conn:
        n = conn.execute(text(count)).scalar()
    shown = lambda: metrics(open_page(url, None, region=COUNTY, year=2020))["建档立卡户数(户)"]  # noqa: E731
    assert shown() == f"{n:,}"
    with engine.begin() as conn:  # behind the app's back: no version bump
        conn.execute(text("UPDATE household SET identified_year = 2030 WHERE hh_id = (SELECT MIN(hh_id) FROM household "
                          "WHERE kind='建档立卡户' AND identified_year <= 2020)"))
    assert shown() == f"{n:,}"  # still the cached figure
    headers, rows = S.sheet_from_db(engine, "persons", Scope.of(scopes(engine)[2]))
    c = {h: i for i, h in enumerate(headers)}
    new_rows = []
    for k in (1, 2):
        new = list(rows[0])
        for h, v in (("户编号", f"523199000000999{k}"), ("人编号", f"523199000000999{k}01"), ("人数", 1),
                     ("与户主关系", "户主"), ("证件号码", _id("19700101", k)), ("性别", ""), ("出生日期", ""),
                     ("识别年度", 2016), ("脱贫年度", ""), ("返贫年度", ""), ("脱贫状态", "未脱贫"),
                     ("享受政策情况", ""),
                     ("户类型", "建档立卡户"), ("区划代码", scopes(engine)[2])):
            new[c[h]] = v
        new_rows.append(new)
    result = importer.run_import(engine, None, [("新增两户.xlsx", S.xlsx_bytes([("人员", headers, new_rows)]))])
    assert result.written and not result.errors
    with engine.connect() as conn:
        assert conn.execute(text(count)).scalar() == n + 1
    assert shown() == f"{n + 1:,}"


def _id(birth: str, k: int) -> str:
    from data_access.rules import id_check_char

    body = f"523199{birth}7{k}7"
    return body + id_check_char(body)
