"""讲话要点: every number of every point equals a hand count over raw SQL rows, and the figure the point's link
opens (AppTest of that page URL), for the county, a township and a village, in 2018 and 2025, on SQLite and
PostgreSQL. Also: the ranking, the thresholds a deployment sets, "nothing worth saying", and the brief files."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections import defaultdict

import pytest

from components.shell import nav
from data_access.queries import places
from data_access.report import brief, slides
from data_access.report import talking_points as tp
from tests.helpers import hand_lines, like, members_at, metrics, open_page, population_at, scopes

YEARS = (2018, 2025)
LEVELS = ("county", "town", "village")
# The demo's deliberate data problems (a project with no place in 2019, 支出 above 拨付 in 2026) are in other
# years: the county in those years checks the data-problem rule too.
CASES = [(level, year) for level in LEVELS for year in YEARS] + [("county", 2019), ("county", 2026)]
# Thresholds under which every rule that has data speaks (so more figures are checked than the defaults give).
EAGER = tp.Thresholds(top_n=20, target_pct=1000.0, incidence_change_points=0.0, monitoring_change_pct=0.0,
                      monitoring_change_min=0, spending_gap_points=0.0, visit_rate_pct=100.01)
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _day(v):
    return None if v is None else dt.date.fromisoformat(str(v)[:10])


# ---- the hand counts (raw SQL rows, Python arithmetic) -----------------------------------------------


class Hand:
    """Independent figures for one scope and year: raw rows from SQL, counted here."""

    def __init__(self, q, scope, year, first_year, last_year, as_of, t: tp.Thresholds):
        self.q, self.scope, self.year, self.first, self.last, self.as_of, self.t = (
            q, scope, year, first_year, last_year, as_of, t)
        self.p = like(scope)
        self.col = {"county": "county_code", "town": "town_code", "village": "village_code"}[scope.level]
        self.hh = q.dicts("SELECT hh_id, kind, identified_year, exit_year, returned_year, member_count "
                          "FROM household WHERE village_code LIKE :p", p=self.p)
        self.mo = [dict(r, identified_date=_day(r["identified_date"]), removed_date=_day(r["removed_date"]))
                   for r in q.dicts("SELECT hh_id, identified_date, removed_date FROM monitoring_object "
                                    "WHERE village_code LIKE :p", p=self.p)]

    # registry states (rules.py's definitions, written out again)
    @staticmethod
    def in_reg(h, y):
        return h["kind"] == "建档立卡户" and h["identified_year"] is not None and h["identified_year"] <= y

    def returned(self, h, y):
        return self.in_reg(h, y) and h["returned_year"] is not None and h["returned_year"] <= y

    def exited(self, h, y):
        return (self.in_reg(h, y) and h["exit_year"] is not None and h["exit_year"] <= y
                and (h["returned_year"] is None or h["returned_year"] > y))

    def not_exited(self, h, y):
        return (self.in_reg(h, y) and (h["exit_year"] is None or h["exit_year"] > y)
                and (h["returned_year"] is None or h["returned_year"] > y))

    @staticmethod
    def pct(n, d):
        return None if not d else round(100.0 * n / d, 2)

    def incidence(self, y):
        size = members_at(self.q, [y])  # people: the members at the year's end
        poor = sum(size.get((h["hh_id"], y), 0) for h in self.hh if self.not_exited(h, y) or self.returned(h, y))
        return self.pct(poor, population_at(self.q, self.scope.prefix, y))

    def exited_in_year(self):
        return sum(1 for h in self.hh if self.in_reg(h, self.last) and h["exit_year"] == self.year)

    def target(self):
        return self.q.scalar("SELECT households FROM exit_target WHERE region_code = :c AND year = :y",
                             c=self.scope.code, y=self.year)

    def low_incomes(self, exclude_monitored: bool):
        """(under the line × (1 + margin), under the line) among exited households, latest income <= year."""
        lines = hand_lines(self.q, self.scope)
        latest = {}
        for hh_id, year, value in self.q.rows(
                "SELECT i.hh_id, i.year, i.per_capita_net FROM income i JOIN household h ON h.hh_id = i.hh_id "
                "WHERE h.village_code LIKE :p AND i.year <= :y", p=self.p, y=self.year):
            if hh_id not in latest or year > latest[hh_id][0]:
                latest[hh_id] = (year, float(value))
        end = dt.date(self.year, 12, 31)
        watched = {m["hh_id"] for m in self.mo if m["identified_date"] <= end
                   and (m["removed_date"] is None or m["removed_date"] > end)}
        factor = 1 + self.t.income_margin_pct / 100.0
        near = below = 0
        for h in self.hh:
            if not self.exited(h, self.year) or h["hh_id"] not in latest:
                continue
            if exclude_monitored and h["hh_id"] in watched:
                continue
            year, value = latest[h["hh_id"]]
            line = lines.get(year)
            if line is None:
                continue
            near += value < line * factor
            below += value < line
        return near, below

    def monitoring(self, y):
        end, start = dt.date(y, 12, 31), dt.date(y, 1, 1)
        seen = [m for m in self.mo if m["identified_date"] <= end]
        removed = [m for m in seen if m["removed_date"] is not None and m["removed_date"] <= end]
        return {"new": sum(m["identified_date"] >= start for m in seen), "households": len(seen),
                "removed": len(removed), "at_risk": len(seen) - len(removed),
                "rate": self.pct(len(removed), len(seen)),
                "removed_this_year": sum(start <= m["removed_date"] <= end for m in removed)}

    def money(self):
        """{child code: (name, arranged, spent)} and the scope's (arranged, spent), against 安排."""
        if self.scope.level == "county":
            where, child = "f.county_code = :c AND f.year = :y", "p.town_code"
        else:
            where, child = f"p.{self.col} = :c AND p.year = :y", "p.village_code"
        arranged = self.q.rows(f"SELECT {child}, a.amount FROM arrangement a JOIN fund f ON f.fund_id = a.fund_id "
                               f"JOIN project p ON p.project_id = a.project_id WHERE {where}",
                               c=self.scope.code, y=self.year)
        spent = self.q.rows(f"SELECT {child}, m.amount FROM money_flow m JOIN fund f ON f.fund_id = m.fund_id "
                            f"JOIN project p ON p.project_id = m.project_id WHERE {where} AND m.kind = '支出'",
                            c=self.scope.code, y=self.year)
        per = defaultdict(lambda: [0, 0])
        for k, v in arranged:
            per[k][0] += int(v)
        for k, v in spent:
            per[k][1] += int(v)
        names = dict(self.q.rows("SELECT code, name FROM region WHERE parent_code = :c", c=self.scope.code))
        total = (sum(v[0] for v in per.values()), sum(v[1] for v in per.values()))
        return {k: (names.get(k), a, s) for k, (a, s) in per.items() if k is not None}, total

    def projects(self):
        rows = self.q.rows(f"SELECT planned_end, actual_end FROM project WHERE {self.col} = :c AND year = :y",
                           c=self.scope.code, y=self.year)
        late = 0
        for planned, actual in rows:
            planned, actual = _day(planned), _day(actual)
            late += planned is not None and ((actual or self.as_of) - planned).days > 0
        return len(rows), late

    def problems(self):
        if self.scope.level == "county":
            ids = self.q.rows("SELECT project_id FROM project WHERE county_code = :c AND year = :y UNION "
                              "SELECT a.project_id FROM arrangement a JOIN fund f ON f.fund_id = a.fund_id "
                              "WHERE f.county_code = :c AND f.year = :y", c=self.scope.code, y=self.year)
        else:
            ids = self.q.rows(f"SELECT project_id FROM project WHERE {self.col} = :c AND year = :y",
                              c=self.scope.code, y=self.year)
        ids = {r[0] for r in ids}
        money = defaultdict(lambda: [0, 0])
        for pid, kind, amount in self.q.rows("SELECT project_id, kind, amount FROM money_flow"):
            if pid in ids:
                money[pid][0 if kind == "拨付" else 1] += int(amount)
        over = sum(1 for pid in ids if money[pid][1] > money[pid][0])
        no_place = sum(1 for pid, region in self.q.rows("SELECT project_id, region_code FROM project")
                       if pid in ids and region is None)
        return over, no_place

    def visits(self):
        on = min(dt.date(self.year, 12, 31), self.as_of)
        start = on - dt.timedelta(days=self.t.visit_days - 1)
        assigned = {hh for hh, s, e in self.q.rows(
            "SELECT hh_id, start_date, end_date FROM assignment WHERE village_code LIKE :p", p=self.p)
            if _day(s) <= on and (e is None or _day(e) >= on)}
        visited = {hh for hh, d in self.q.rows("SELECT hh_id, visit_date FROM visit WHERE kind = '入户走访'")
                   if hh in assigned and start <= _day(d) <= on}
        return len(assigned), len(visited), self.pct(len(visited), len(assigned))


def count(n) -> str:
    return f"{int(n):,}"


def percent(p) -> str:
    return f"{p:.2f}%"


def expected(hand: Hand, point: tp.Point, fig: tp.Fig) -> str:
    """The figure's text from the hand counts."""
    y, rule, label = hand.year, point.rule, fig.label
    if rule == "exit_target":
        done, target = hand.exited_in_year(), hand.target()
        return {"本年脱贫(户)": count(done), "年度减贫任务(户)": count(target),
                "任务完成率(%)": percent(hand.pct(done, target)), "尚差(户)": count(target - done)}[label]
    if rule == "incidence_change":
        a, b = hand.incidence(y), hand.incidence(y - 1)
        return {f"{y - 1}年贫困发生率(%)": percent(b), f"{y}年贫困发生率(%)": percent(a),
                "较上年(百分点)": f"{abs(a - b):.2f}"}[label]
    if rule in ("near_line", "income_warning"):
        near, below = hand.low_incomes(exclude_monitored=rule == "income_warning")
        return count(below if label.startswith("低于") else near)
    if rule == "monitoring_new":
        return count(hand.monitoring(int(label[:4]))["new"])
    if rule == "risk_removal":
        m = hand.monitoring(y)
        return {f"{y}年风险消除(户)": count(m["removed_this_year"]), "监测对象(户)": count(m["households"]),
                "风险消除率(%)": percent(m["rate"]), "仍有风险(户)": count(m["at_risk"])}[label]
    if rule == "spending_laggard":
        per, (arranged, spent) = hand.money()
        if label == tp.region_word(hand.scope)[1:] + "支出进度(%)":
            return percent(hand.pct(spent, arranged))
        by_name = {name: hand.pct(s, a) for name, a, s in per.values()}
        return percent(by_name[label.replace("支出进度(%)", "")])
    if rule == "spent_over_paid":
        over, no_place = hand.problems()
        return count(over if label.startswith("支出超过拨付") else no_place)
    if rule == "late_projects":
        n, late = hand.projects()
        return count(n if label == "项目(个)" else late)
    if rule == "visit_rate":
        assigned, visited, rate = hand.visits()
        return {"结对帮扶户(户)": count(assigned), "已入户(户)": count(visited)}.get(label) or percent(rate)
    raise AssertionError(f"no hand count for {rule}/{label}")


# ---- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def levels(registry_engine):
    return dict(zip(LEVELS, scopes(registry_engine)))


def setting(engine, scope):
    first, last = places.year_range(engine, scope)
    as_of = dt.date.fromisoformat(places.data_meta(engine)["data_as_of"][:10])
    return first, last, as_of


def all_points(engine, scope, year, t):
    first, last, as_of = setting(engine, scope)
    return tp.talking_points(engine, scope, year, first, last, as_of, t), (first, last, as_of)


# ---- every number equals the hand count ---------------------------------------------------------


@pytest.mark.parametrize("level,year", CASES)
@pytest.mark.parametrize("eager", [False, True], ids=["defaults", "eager"])
def test_every_number_equals_independent_sql(registry_engine, q, levels, level, year, eager):
    t = EAGER if eager else tp.Thresholds()
    scope = levels[level]
    found, (first, last, as_of) = all_points(registry_engine, scope, year, t)
    hand = Hand(q, scope, year, first, last, as_of, t)
    campaign = {"exit_target", "incidence_change", "near_line"}
    for point in found:
        assert tp.BY_NAME[point.rule].applies(year)
        assert (point.rule in campaign) == (year <= 2020) or tp.BY_NAME[point.rule].years == "all"
        assert point.figures, point
        for fig in point.figures:
            assert fig.text == expected(hand, point, fig), (point.rule, fig.label, point.sentence)
        # every number the sentence says is one of its figures (or the year, or a threshold it names)
        said = {f.text.rstrip("%") for f in point.figures} | {str(year), str(year - 1)}
        said |= {f"{v:g}" for v in (t.income_margin_pct, t.spending_gap_points, t.visit_rate_pct)}
        said |= {str(t.visit_days)}
        numbers = NUMBER.findall(point.sentence)
        extra = [n for n in numbers if n not in said]
        if point.rule == "spending_laggard":  # "等N个乡镇": the number of laggards, counted by hand too
            per, (arranged, spent) = hand.money()
            overall = hand.pct(spent, arranged)
            slow = sum(1 for _, a, s in per.values() if a and hand.pct(s, a) <= overall - t.spending_gap_points)
            extra = [n for n in extra if n != str(slow)]
        assert not extra, (point.sentence, extra)
    if eager and level == "county":  # the eager thresholds make the county say something in either era
        assert {p.rule for p in found} & (campaign if year <= 2020 else {"monitoring_new", "risk_removal"})
    if year not in YEARS:
        assert "spent_over_paid" in {p.rule for p in found}


def test_ranked_by_score_and_top_n(registry_engine, levels):
    found, _ = all_points(registry_engine, levels["county"], 2025, EAGER)
    assert len(found) >= 3
    scores = [p.score for p in found]
    assert scores == sorted(scores, reverse=True)
    assert tp.top(found, 2) == found[:2]
    assert tp.top(found, 0) == []


SILENT = {"target_pct": 0.0, "incidence_change_points": 1e9, "near_line_min": 10 ** 9, "monitoring_change_pct": 1e9,
          "income_warning_min": 10 ** 9, "at_risk_min": 10 ** 9, "spending_gap_points": 1e9,
          "data_problems_min": 10 ** 9, "late_projects_min": 10 ** 9, "visit_rate_pct": 0.0}


def test_nothing_worth_saying(registry_engine, levels):
    silent = tp.Thresholds(**SILENT)
    assert all_points(registry_engine, levels["county"], 2025, silent)[0] == []
    found, _ = all_points(registry_engine, levels["county"], 2018, silent)
    assert {p.rule for p in found} <= {"exit_target"}  # a target met is the line those years open with
    assert all(p.comparison.startswith("完成率达到") for p in found)
    assert tp.as_text([], "云岭县", 2025).endswith(tp.NOTHING)


def test_thresholds_from_settings():
    t, problems = tp.thresholds_from_settings({"top_n": 3, "spending_gap_points": "12.5"},
                                              {"REGISTRY_TALKING_POINTS_VISIT_RATE_PCT": "95"})
    assert (t.top_n, t.spending_gap_points, t.visit_rate_pct) == (3, 12.5, 95.0) and not problems
    t, problems = tp.thresholds_from_settings({"top_n": "2.5", "visit_days": "-1"}, {
        "REGISTRY_TALKING_POINTS_SPENDING_GAP_POINTS": "十"})
    assert t == tp.Thresholds()
    assert len(problems) == 3 and all("无效" in p for p in problems)


def test_a_threshold_changes_what_is_said(registry_engine, levels):
    scope = levels["county"]
    loose, _ = all_points(registry_engine, scope, 2025, tp.Thresholds(visit_rate_pct=100.01))
    strict, _ = all_points(registry_engine, scope, 2025, tp.Thresholds(visit_rate_pct=0.0))
    assert "visit_rate" in {p.rule for p in loose}
    assert "visit_rate" not in {p.rule for p in strict}


# ---- the linked page shows the same figure --------------------------------------------------------


def _metric(at, label):
    for m in at.metric:
        if m.label == label:
            return m
    raise AssertionError(f"no metric {label}: {sorted(metrics(at))}")


def on_page(at, fig: tp.Fig, point: tp.Point) -> None:
    kind = fig.proof[0]
    if kind == "metric":
        assert _metric(at, fig.proof[1]).value == fig.text, (fig.label, metrics(at))
    elif kind == "metric_help":
        assert f" {fig.text} 户" in _metric(at, fig.proof[1]).proto.help, fig
    elif kind == "metric_delta":
        delta = _metric(at, fig.proof[1]).proto.delta
        assert f"{abs(float(delta)):.2f}" == fig.text, (delta, fig)
    elif kind == "caption":
        captions = [c.value for c in at.caption]
        assert any(f"整体({fig.text},灰色虚线);以安排为基数" in c for c in captions), (fig, captions)
    elif kind == "table":
        column, (key_col, key) = fig.proof[1], fig.proof[2]
        tables = [f.value for f in at.dataframe if column in f.value.columns and key_col in f.value.columns]
        assert tables, fig
        row = tables[0][tables[0][key_col] == key]
        assert len(row) == 1, (fig, tables[0])
        assert f"{float(row.iloc[0][column]):.2f}%" == fig.text, fig
    elif kind == "table_rows":
        column, value = fig.proof[1], fig.proof[2]
        tables = [f.value for f in at.dataframe if column in f.value.columns]
        assert tables, fig
        assert count(int((tables[0][column] == value).sum())) == fig.text, fig
    elif kind == "derived":  # 尚差 = 任务 − 本年脱贫, both shown on the page
        by = {f.label: f for f in point.figures}
        assert int(by["年度减贫任务(户)"].value) - int(by["本年脱贫(户)"].value) == fig.value
    else:
        raise AssertionError(f"unknown proof {fig.proof}")


@pytest.mark.parametrize("level,year", CASES)
def test_linked_page_shows_every_figure(registry_url, registry_engine, levels, level, year, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    scope = levels[level]
    found, _ = all_points(registry_engine, scope, year, tp.Thresholds())
    shown = tp.top(found, tp.Thresholds().top_n)
    by_url = defaultdict(list)
    for point in shown:
        assert point.query_params["region"] == scope.code and point.query_params["year"] == str(year)
        assert point.page in nav.BY_KEY
        assert any((f.page, f.params) == (point.page, point.params) for f in point.figures)
        for fig in point.figures:
            by_url[(fig.page, fig.params)].append((fig, point))
    for (page, params), figs in by_url.items():
        at = open_page(registry_url, nav.BY_KEY[page].file, **dict(params))
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        for fig, point in figs:
            on_page(at, fig, point)


def test_overview_panel_and_screen(sqlite_demo_url, sql, monkeypatch):
    """The overview's 讲话要点 panel and the 讲话要点 screen show the top points, each with its link."""
    from data_access.db import get_engine

    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    engine = get_engine(sqlite_demo_url)
    county = scopes(engine)[0]
    found, _ = all_points(engine, county, 2025, tp.Thresholds())
    shown = tp.top(found, tp.Thresholds().top_n)
    assert shown
    for page, extra in (("pages/overview.py", {}), ("pages/talking_points.py", {}),
                        ("pages/talking_points.py", {"mode": "present"})):
        at = open_page(sqlite_demo_url, page, region=county.code, year=2025, **extra)
        assert not at.exception, at.exception
        bodies = [html.unescape(getattr(h, "body", "") or "") for h in at.get("html")]  # the text, not its entities
        expect = shown[:tp.Thresholds().present_n] if extra else shown  # the projector holds the first few
        for i, p in enumerate(expect, 1):
            assert any(f"<b>{i}.</b> {p.sentence}" in b for b in bodies), p.sentence
        links = [(x.proto.page, x.proto.query_string) for x in at.get("page_link")]
        assert len([b for b in bodies if "</b> " in b and b.startswith("<div style='font-size")]) == len(expect)
        for p in expect:
            query = dict(p.params, **({"mode": "present"} if extra else {}))
            assert any(page_ == p.page and all(f"{k}=" in qs for k in query) for page_, qs in links), (p.url, links)


def test_nothing_to_say_is_said(sqlite_demo_url, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    for name, value in SILENT.items():
        monkeypatch.setenv(f"REGISTRY_TALKING_POINTS_{name.upper()}", str(int(value)))  # ASCII digits only
    for page in ("pages/talking_points.py", "pages/overview.py"):
        at = open_page(sqlite_demo_url, page, year=2025)
        assert not at.exception, at.exception
        assert not [w.value for w in at.warning if "讲话要点" in w.value]  # the thresholds were all read
        assert tp.NOTHING in [i.value for i in at.info]


# ---- the meeting brief ------------------------------------------------------------------------


def test_brief_docx_txt_and_slide_notes(registry_engine, levels):
    from docx import Document
    from pptx import Presentation

    scope = levels["county"]
    found, _ = all_points(registry_engine, scope, 2025, tp.Thresholds())
    said = tuple(p.sentence for p in tp.top(found, 6))
    assert said
    facts = brief.brief_facts(registry_engine, scope, 2025, 2014)
    doc = Document(io.BytesIO(brief.brief_docx(facts, said)))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "二、讲话要点" in paragraphs
    assert [f"{i}. {s}" for i, s in enumerate(said, 1)] == paragraphs[paragraphs.index("二、讲话要点") + 1:][:len(said)]
    txt = brief.brief_txt(facts, said).decode("utf-8-sig")
    assert all(f"{i}. {s}" in txt for i, s in enumerate(said, 1))
    assert "讲话要点" not in brief.brief_txt(facts).decode("utf-8-sig")  # without points: as before
    deck = Presentation(io.BytesIO(slides.build_pptx(registry_engine, scope, 2025, 2014, said)))
    notes = {s.name: s.notes_slide.notes_text_frame.text for s in deck.slides}
    for name in ("封面", "主要指标"):
        assert notes[name].startswith(brief.brief_paragraph(facts))
        assert all(f"{i}. {s}" in notes[name] for i, s in enumerate(said, 1))
