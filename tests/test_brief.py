"""会议材料: the 基本情况 paragraph (data_access.report.brief).

Every number in the paragraph is parsed back out by its label and compared with (a) the figure the
page's query function gives and (b) an independent SQL count on the base tables, for a county, a
township and a village, on SQLite and PostgreSQL. Absent data leaves its clause out. The .docx and
.txt hold the paragraph. The overview (AppTest) shows it with the download buttons.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from data_access.report import brief
from data_access.queries import causes, funds, monitoring, overview, places
from components.safe import md
from data_access.scope import Scope
from tests.helpers import (
    COUNTY_CODE, MEMBERS_AT, era_by_sql, hround, open_page, pick_scopes, population_at, year_end,
)

NUM = r"([\d,]+)"
DEC = r"([\d,]+\.\d+)"


def n(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture(scope="module")
def scopes(registry_engine, sql):
    return pick_scopes(sql(registry_engine))


@pytest.fixture(scope="module")
def as_of_year(registry_engine):
    return places.year_range(registry_engine, Scope.of(COUNTY_CODE))[1]


# ---- independent SQL ---------------------------------------------------------------------


def bounds(code: str) -> tuple[str, str]:
    s = Scope.of(code)
    return s.bounds


def hh_where(code: str) -> str:
    return "h.village_code BETWEEN :lo AND :hi AND h.kind = '建档立卡户' AND h.identified_year <= :y"


def sql_registry(q, code: str, year: int) -> dict:
    lo, hi = bounds(code)
    base = f"SELECT count(*), coalesce(sum({MEMBERS_AT}), 0) FROM household h WHERE {hh_where(code)}"
    end = year_end(year)  # people: the members at the year's end
    returned = "h.returned_year IS NOT NULL AND h.returned_year <= :y"
    exited = f"h.exit_year IS NOT NULL AND h.exit_year <= :y AND NOT ({returned})"
    not_exited = f"(h.exit_year IS NULL OR h.exit_year > :y) AND NOT ({returned})"
    out = {}
    for key, cond in (("registered", "1 = 1"), ("exited", exited), ("not_exited", not_exited),
                      ("returned", returned)):
        hh, pp = q.rows(f"{base} AND {cond}", lo=lo, hi=hi, y=year, end=end)[0]
        out[f"{key}_households"], out[f"{key}_persons"] = int(hh), int(pp)
    poor = q.scalar(f"SELECT coalesce(sum({MEMBERS_AT}), 0) FROM household h WHERE {hh_where(code)} "
                    f"AND ((h.exit_year IS NULL OR h.exit_year > :y) OR ({returned}))", lo=lo, hi=hi, y=year, end=end)
    rural = population_at(q, Scope.of(code).prefix, year)
    out["incidence"] = hround(100.0 * int(poor) / int(rural), 2) if rural else None
    return out


def sql_causes(q, code: str, year: int) -> list[tuple[str, int]]:
    lo, hi = bounds(code)
    rows = q.rows(f"SELECT h.main_cause, count(*) FROM household h WHERE {hh_where(code)} "
                  "AND h.main_cause IS NOT NULL GROUP BY h.main_cause", lo=lo, hi=hi, y=year)
    rows = sorted(((str(c), int(k)) for c, k in rows), key=lambda r: (-r[1], r[0]))
    return rows[:brief.TOP_CAUSES]


def sql_villages(q, code: str, year: int) -> tuple[int, int]:
    lo, hi = bounds(code)
    poor = q.scalar("SELECT count(*) FROM region WHERE level = 'village' AND code BETWEEN :lo AND :hi "
                    "AND is_poor_village = :t", lo=lo, hi=hi, t=True)
    exited = q.scalar("SELECT count(*) FROM region WHERE level = 'village' AND code BETWEEN :lo AND :hi "
                      "AND is_poor_village = :t AND poor_village_exit_year <= :y", lo=lo, hi=hi, t=True, y=year)
    return int(poor), int(exited)


def sql_funds(q, code: str, year: int) -> dict:
    level = Scope.of(code).level
    if level == "county":
        funds_in = "SELECT fund_id FROM fund WHERE county_code = :c AND year = :y"
        allocated = int(q.scalar("SELECT coalesce(sum(amount), 0) FROM fund WHERE county_code = :c AND year = :y",
                                 c=code, y=year))
        arranged = int(q.scalar(f"SELECT coalesce(sum(amount), 0) FROM arrangement WHERE fund_id IN ({funds_in})",
                                c=code, y=year))
        flows = dict(q.rows(f"SELECT kind, sum(amount) FROM money_flow WHERE fund_id IN ({funds_in}) GROUP BY kind",
                            c=code, y=year))
    else:
        column = "town_code" if level == "town" else "village_code"
        projects = f"SELECT project_id FROM project WHERE {column} = :c AND year = :y"
        allocated = None
        arranged = int(q.scalar(f"SELECT coalesce(sum(amount), 0) FROM arrangement WHERE project_id IN ({projects})",
                                c=code, y=year))
        flows = dict(q.rows(f"SELECT kind, sum(amount) FROM money_flow WHERE project_id IN ({projects}) "
                            "GROUP BY kind", c=code, y=year))
    return {"allocated": allocated, "arranged": arranged, "paid": int(flows.get("拨付") or 0),
            "spent": int(flows.get("支出") or 0)}


def sql_monitoring(q, code: str, year: int) -> dict:
    lo, hi = bounds(code)
    end = dt.date(year, 12, 31)
    base = ("SELECT count(*), coalesce(sum(persons), 0) FROM monitoring_object WHERE village_code BETWEEN :lo AND :hi "
            "AND identified_date <= :end")
    hh, pp = q.rows(base, lo=lo, hi=hi, end=end)[0]
    rh, rp = q.rows(base + " AND removed_date IS NOT NULL AND removed_date <= :end", lo=lo, hi=hi, end=end)[0]
    return {"households": int(hh), "persons": int(pp), "removed_households": int(rh), "removed_persons": int(rp)}


def money_text(yuan: int, largest: int, read_aloud: bool = False) -> str:
    """Independent 万元/亿元 text: Decimal rounding half up; 亿元 to 4 decimals (tables) or, read aloud
    (the paragraph, slides, headlines), to 2."""
    if largest >= 100_000_000:
        value, unit, q = Decimal(yuan) / Decimal(100_000_000), "亿元", Decimal("0.01" if read_aloud else "0.0001")
    else:
        value, unit, q = Decimal(yuan) / Decimal(10_000), "万元", Decimal("0.01")
    return f"{value.quantize(q, rounding=ROUND_HALF_UP):,}{unit}"


def pct_text(num: int, den: int, digits: int = 2) -> str:
    value = (Decimal(100 * num) / Decimal(den)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{value}%"


# ---- parsing the paragraph ------------------------------------------------------------------


def grab(pattern: str, text: str):
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in {text!r}"
    return m.groups()


# ---- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["county", "town", "village"])
def test_every_number_equals_the_pages_figure_and_sql(registry_engine, sql, scopes, as_of_year, which):
    code, year = scopes[which], as_of_year
    scope, q = Scope.of(code), sql(registry_engine)
    facts = brief.brief_facts(registry_engine, scope, year, 2014)
    text = brief.brief_paragraph(facts)
    assert "None" not in text and "nan" not in text.lower() and "—" not in text

    # registry: the overview's headline and independent SQL
    head = overview.headline(registry_engine, scope, year)
    mine = sql_registry(q, code, year)
    hh, pp = grab(rf"累计识别建档立卡贫困户{NUM}户{NUM}人", text)
    assert (n(hh), n(pp)) == (head["registered_households"], head["registered_persons"]) == \
        (mine["registered_households"], mine["registered_persons"])
    assert mine["registered_households"] > 0
    # the as-of year is after 2020: the paragraph leads with 脱贫人口 (report.era), and has no 贫困发生率
    assert facts["era"] is not None and year > 2020
    hh, pp = grab(rf"有脱贫人口{NUM}户{NUM}人", text)
    assert (n(hh), n(pp)) == (head["exited_households"], head["exited_persons"]) == \
        (mine["exited_households"], mine["exited_persons"])
    assert "贫困发生率" not in text
    _campaign_registry_and_incidence(registry_engine, q, code, 2019)

    # causes, in the page's order
    (items,) = grab(r"其中主要致贫原因有:(.*?)。", text)
    parsed = [(m.group(1), n(m.group(2))) for m in re.finditer(r"([^、\d]+?)([\d,]+)户", items)]
    mix = causes.cause_mix(registry_engine, scope, year)
    page = [(c, int(h)) for c, h in zip(mix["cause"], mix["households"]) if c != causes.NO_CAUSE][:brief.TOP_CAUSES]
    assert parsed == page == sql_causes(q, code, year)
    assert len(parsed) == min(brief.TOP_CAUSES, len(page))

    # poor villages
    if which == "village":
        assert "共有贫困村" not in text
        exit_year = q.scalar("SELECT poor_village_exit_year FROM region WHERE code = :c", c=code)
        (said,) = grab(r"本村为贫困村,已于(\d{4})年出列", text)
        assert int(said) == int(exit_year) <= year
    else:
        poor, exited = sql_villages(q, code, year)
        assert poor > 0
        (total,) = grab(rf"共有贫困村{NUM}个", text)
        assert n(total) == head["poor_villages"] == poor
        if exited == poor:
            assert "已全部出列" in text
        else:
            done, left = grab(rf"已出列{NUM}个,尚未出列{NUM}个", text)
            assert (n(done), n(left)) == (head["poor_villages_exited"], head["poor_villages_remaining"]) == \
                (exited, poor - exited)

    # funds, formatted as the funds page formats them
    page_money = funds.totals(registry_engine, scope, year)
    mine = sql_funds(q, code, year)
    for key in ("allocated", "arranged", "paid", "spent"):
        assert page_money[key] == mine[key], key
    base = mine["allocated"] if mine["allocated"] is not None else mine["arranged"]
    if base or mine["paid"] or mine["spent"]:
        largest = max(v for v in mine.values() if v is not None)
        from data_access.report import money as amounts

        unit = amounts.headline_unit(base, mine["arranged"], mine["paid"], mine["spent"])
        if mine["allocated"] is not None:
            (said,) = grab(r"下达各类扶贫资金([\d,.]+(?:万元|亿元))", text)
            said_money = money_text(mine["allocated"], largest, read_aloud=True)
            assert said == said_money == unit.text(mine["allocated"], sep="")
            (said,) = grab(r"已安排到项目([\d,.]+(?:万元|亿元))", text)
        else:
            (said,) = grab(r"项目的扶贫资金([\d,.]+(?:万元|亿元))", text)
        assert said == money_text(mine["arranged"], largest, read_aloud=True) == unit.text(mine["arranged"], sep="")
        (said,) = grab(r"已拨付([\d,.]+(?:万元|亿元))", text)
        assert said == money_text(mine["paid"], largest, read_aloud=True)
        (said,) = grab(r"已支出([\d,.]+(?:万元|亿元))", text)
        assert said == money_text(mine["spent"], largest, read_aloud=True)
        if base:
            (rate,) = grab(r"拨付率\(占(?:下达|安排)\)([\d.]+%)", text)
            assert rate == pct_text(mine["paid"], base) == f"{page_money['paid_rate']:.2f}%"
            (rate,) = grab(r"支出进度\(占(?:下达|安排)\)([\d.]+%)", text)
            assert rate == pct_text(mine["spent"], base) == f"{page_money['spent_rate']:.2f}%"
    else:
        assert "扶贫资金" not in text

    # monitoring (the as-of year is after 2020)
    assert year >= brief.MONITORING_SINCE
    watch = monitoring.totals(registry_engine, scope, year)
    mine = sql_monitoring(q, code, year)
    assert mine["households"] > 0
    hh, pp = grab(rf"累计识别防返贫监测对象{NUM}户{NUM}人", text)
    assert (n(hh), n(pp)) == (watch["households"], watch["persons"]) == (mine["households"], mine["persons"])
    hh, pp = grab(rf"风险已消除{NUM}户{NUM}人", text)
    assert (n(hh), n(pp)) == (watch["removed_households"], watch["removed_persons"]) == \
        (mine["removed_households"], mine["removed_persons"])
    hh, pp = grab(rf"风险未消除{NUM}户{NUM}人", text)
    assert (n(hh), n(pp)) == (mine["households"] - mine["removed_households"],
                              mine["persons"] - mine["removed_persons"])


def era_pair(hp) -> str:
    return f"{hp[0]:,}户{hp[1]:,}人"


@pytest.mark.parametrize("year", [2024, None])  # None: the as-of year (the only one with 享受政策 marks)
@pytest.mark.parametrize("which", ["county", "town", "village"])
def test_era_paragraph_equals_sql(registry_engine, scopes, as_of_year, which, year):
    """2021–: every figure of the paragraph's opening (report.era.sentence) equals raw SQL."""
    code, year = scopes[which], year or as_of_year
    scope = Scope.of(code)
    text = brief.brief_paragraph(brief.brief_facts(registry_engine, scope, year, 2014))
    want = era_by_sql(registry_engine, scope.prefix, year)
    assert f"有脱贫人口{era_pair(want['exited'])}" in text and want["exited"][0] > 0
    if want["policy"] is None:  # not the as-of year: the split is not stated
        assert year != as_of_year and "享受政策" not in text
    else:
        assert f"其中脱贫享受政策{era_pair(want['policy'])},脱贫不享受政策{era_pair(want['no_policy'])}" in text
    assert f"累计识别防返贫监测对象{era_pair(want['monitoring'])}" in text
    kinds = re.search(r"累计识别防返贫监测对象[\d,]+户[\d,]+人\((.*?)\)", text).group(1)
    assert {m.group(1): (n(m.group(2)), n(m.group(3))) for m in re.finditer(rf"([^、\d]+?){NUM}户{NUM}人", kinds)} \
        == want["kinds"]
    assert f"风险已消除{era_pair(want['removed'])},风险未消除{era_pair(want['at_risk'])}" in text
    assert f"{year}年新识别{era_pair(want['new'])}" in text
    base, helped = want["help"]
    if base:
        assert (f"{year}年在监测期内的{base:,}户监测对象中,{helped:,}户落实了帮扶措施,"
                f"占{hround(100.0 * helped / base, 2):.2f}%") in text
    said = f"{want['income_year']}年脱贫户人均纯收入{hround(want['income']):,}元"
    if want["growth"] is not None:
        said += f",比上年{'增长' if want['growth'] >= 0 else '下降'}{abs(want['growth']):.2f}%"
    assert said in text
    if want["work"] is not None:
        said = f"脱贫劳动力务工{want['work'][1]:,}人"
        if want["work_change"]:
            said += f",比上年{'增加' if want['work_change'] >= 0 else '减少'}{abs(want['work_change']):,}人"
        assert said in text
    else:
        assert "务工" not in text


def _campaign_registry_and_incidence(registry_engine, q, code, year):
    """A campaign year's paragraph (up to 2020) as before: the states and the incidence then and now."""
    scope = Scope.of(code)
    text = brief.brief_paragraph(brief.brief_facts(registry_engine, scope, year, 2014))
    head = overview.headline(registry_engine, scope, year)
    mine = sql_registry(q, code, year)
    for label, key in (("其中已脱贫", "exited"), ("未脱贫", "not_exited"), ("人,返贫", "returned")):
        hh, pp = grab(rf"{label}{NUM}户{NUM}人", text)
        assert (n(hh), n(pp)) == (head[f"{key}_households"], head[f"{key}_persons"]) == \
            (mine[f"{key}_households"], mine[f"{key}_persons"]), label
    # incidence then and now
    y0, then, _verb, y1, now = grab(r"贫困发生率由(\d{4})年的([\d.]+)%(降至|升至|保持在)(\d{4})年底的([\d.]+)%", text)
    assert (int(y0), int(y1)) == (2014, year)
    assert float(now) == head["incidence"] == sql_registry(q, code, year)["incidence"]
    assert float(then) == overview.headline(registry_engine, scope, 2014)["incidence"] == \
        sql_registry(q, code, 2014)["incidence"]
    assert now == f"{head['incidence']:.2f}"


def test_before_2021_no_monitoring_clause(registry_engine, scopes):
    for code in scopes.values():
        facts = brief.brief_facts(registry_engine, Scope.of(code), 2019, 2014)
        assert facts["monitoring"] is None
        text = brief.brief_paragraph(facts)
        assert "监测对象" not in text and "风险" not in text
        assert "None" not in text and text.endswith("。")


def test_poor_village_not_yet_exited_and_non_poor_village(registry_engine, sql):
    q = sql(registry_engine)
    code, exit_year = q.rows("SELECT code, poor_village_exit_year FROM region WHERE level = 'village' "
                             "AND is_poor_village = :t AND poor_village_exit_year IS NOT NULL "
                             "ORDER BY poor_village_exit_year DESC, code LIMIT 1", t=True)[0]
    text = brief.brief_paragraph(brief.brief_facts(registry_engine, Scope.of(code), int(exit_year) - 1, 2014))
    assert f"本村为贫困村,截至{int(exit_year) - 1}年底尚未出列。" in text
    plain = q.scalar("SELECT code FROM region WHERE level = 'village' AND is_poor_village = :f ORDER BY code LIMIT 1",
                     f=False)
    text = brief.brief_paragraph(brief.brief_facts(registry_engine, Scope.of(plain), 2026, 2014))
    assert "贫困村" not in text


def test_first_year_alone_states_incidence_once(registry_engine):
    facts = brief.brief_facts(registry_engine, Scope.of(COUNTY_CODE), 2014, 2014)
    text = brief.brief_paragraph(facts)
    head = overview.headline(registry_engine, Scope.of(COUNTY_CODE), 2014)
    assert f"2014年底贫困发生率为{head['incidence']:.2f}%。" in text
    assert "贫困发生率由" not in text


# ---- absent data on synthetic facts (no database needed) ---------------------------------------


def synthetic(**changes) -> dict:
    facts = {
        "region_code": "523199101000", "region_name": "上岩镇", "level": "town", "region_word": "全镇",
        "year": 2022, "first_year": 2014, "as_of": "2022-10-31",
        "headline": {"registered_households": 10, "registered_persons": 40, "exited_households": 9,
                     "exited_persons": 36, "not_exited_households": 1, "not_exited_persons": 4,
                     "returned_households": 0, "returned_persons": 0, "poor_persons": 4, "poor_villages": 0,
                     "poor_villages_exited": 0, "poor_villages_remaining": 0, "rural_population": 0,
                     "villages": 2, "incidence": None},
        "first_incidence": None, "village": None, "causes": [],
        "funds": {"allocated": None, "arranged": 0, "paid": 0, "spent": 0, "base": "arranged",
                  "paid_rate": None, "spent_rate": None, "projects": 0},
        "monitoring": {"households": 0, "persons": 0, "removed_households": 0, "removed_persons": 0,
                       "at_risk_households": 0, "at_risk_persons": 0, "removal_rate": None},
    }
    facts.update(changes)
    return facts


def test_absent_clauses_are_left_out():
    text = brief.brief_paragraph(synthetic())
    assert text.startswith("截至2022年底,上岩镇累计识别建档立卡贫困户10户40人")
    for absent in ("贫困发生率", "致贫原因", "贫困村", "资金", "拨付", "None", "—", "nan"):
        assert absent not in text, absent
    assert "截至2022年底,全镇未识别防返贫监测对象。" in text


def test_paid_without_base_has_no_rate():
    facts = synthetic(funds={"allocated": None, "arranged": 0, "paid": 12_345, "spent": 0, "base": "arranged",
                             "paid_rate": None, "spent_rate": None, "projects": 1})
    text = brief.brief_paragraph(facts)
    assert "已拨付1.23万元" in text and "拨付率" not in text and "支出进度" not in text


def test_no_registry_at_all():
    head = dict(synthetic()["headline"], registered_households=0, registered_persons=0, exited_households=0,
                exited_persons=0, not_exited_households=0, not_exited_persons=0)
    text = brief.brief_paragraph(synthetic(headline=head, monitoring=None))
    assert text == "截至2022年底,上岩镇暂无建档立卡数据。"


def test_money_and_count_formatting_equal_the_pages():
    from data_access.report import money as amounts
    from data_access.report import formatting as fmt

    samples = [0, 1, 49, 50, 99, 150, 12_345, 12_355, 7_726_000, 99_994_999, 99_995_000, 100_000_000,
               123_456_789, 5_000_050_000, 7_339_800_000]
    for a in samples:
        for b in (0, 10_000, 150_000_000):
            unit = amounts.unit_for(a, b)
            assert unit.name == ("亿元" if max(a, b) >= 100_000_000 else "万元")
            assert unit.text(a, sep="") == unit.text(a).replace(" ", "") == money_text(a, max(a, b))
    for c in (0, 7, 1234, 25012, 1_000_000):
        assert fmt.count(c) == f"{c:,}"
    for p in (0.0, 0.09, 8.333, 72.2222, 100.0):
        assert fmt.percent(p) == f"{p:.2f}%"


def test_region_words():
    assert brief.region_word(Scope.of("523199000000")) == "全县"
    assert brief.region_word(Scope.of("523199001000")) == "全街道"
    assert brief.region_word(Scope.of("523199101000")) == "全镇"
    assert brief.region_word(Scope.of("523199201000")) == "全乡"
    assert brief.region_word(Scope.of("523199201204")) == "全村"


# ---- files -------------------------------------------------------------------------------------


def test_docx_and_txt_hold_the_paragraph(sqlite_demo_url):
    from docx import Document

    from data_access.db import get_engine

    engine = get_engine(sqlite_demo_url)
    facts = brief.brief_facts(engine, Scope.of(COUNTY_CODE), 2026, 2014)
    paragraph = brief.brief_paragraph(facts)
    doc = Document(io.BytesIO(brief.brief_docx(facts)))
    texts = [p.text for p in doc.paragraphs]
    assert paragraph in texts
    assert texts[0] == brief.brief_title(facts) and "云岭县" in texts[0]
    assert any(t.startswith("数据来源") and "2026-10-31" in t for t in texts)
    for section in doc.sections:  # A4: 210 × 297 mm (a 0.1 mm tolerance for EMU rounding)
        assert abs(section.page_width.mm - 210) < 0.1 and abs(section.page_height.mm - 297) < 0.1
    raw = brief.brief_txt(facts)
    assert raw.startswith(b"\xef\xbb\xbf")
    body = raw.decode("utf-8-sig")
    assert paragraph in body.splitlines() and "2026-10-31" in body


# ---- the overview page ---------------------------------------------------------------------------


def test_overview_shows_paragraph_and_downloads(sqlite_demo_url):
    from data_access.db import get_engine

    engine = get_engine(sqlite_demo_url)
    town = pick_scopes(sqlite_demo_url)["town"]
    at = open_page(sqlite_demo_url, region=town, year=2026)
    assert not at.exception
    first, _ = places.year_range(engine, Scope.of(COUNTY_CODE))
    expected = brief.brief_paragraph(brief.brief_facts(engine, Scope.of(town), 2026, first))
    assert [m.value for m in at.markdown if m.value == md(expected)] == [md(expected)]
    assert len(at.code) == 0  # no st.code: its highlighter is 1.5 MB of JavaScript for a fresh browser
    assert any(m.value == "#### 会议材料" for m in at.markdown)
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels == ["下载 Word(.docx)", "下载文本(.txt)"]
    at.button(key="brief-pptx-build").click().run()
    assert not at.exception
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels == ["下载 Word(.docx)", "下载文本(.txt)", "下载汇报幻灯片(.pptx)"]


def test_presentation_mode_hides_the_section(sqlite_demo_url):
    at = open_page(sqlite_demo_url, region=COUNTY_CODE, year=2026, mode="present")
    assert not at.exception
    assert not any(m.value.startswith("#### 会议材料") for m in at.markdown)
    assert len(at.get("download_button")) == 0


def test_village_overview_has_the_section(sqlite_demo_url):
    village = pick_scopes(sqlite_demo_url)["village"]
    at = open_page(sqlite_demo_url, region=village, year=2019)
    assert not at.exception
    (paragraph,) = [m.value for m in at.markdown if m.value.startswith(md("截至2019年底,"))]
    assert md("本村为贫困村") in paragraph and "监测对象" not in paragraph
