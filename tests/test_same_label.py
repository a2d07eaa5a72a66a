"""The one cross-page test (issue 18): every figure shown under the same label in more than one place must be
the same number, for the county, a township and a village, on SQLite and PostgreSQL.

Places (each a *source*): the pages, through the query functions they call and with the labels they show
(总览, 脱贫进度, 致贫原因, 资金项目, 防返贫监测, 帮扶力量, 村档案, the parent's 下级排名 for a village, 户档案);
the 基本情况 paragraph, read back from the .txt and the .docx; the slides, read back from the .pptx; and an
independent SQL query for the registry counts. A label is the words a reader sees, units and period
included (``已脱贫户数``, ``累计脱贫(含其后返贫)户数``, ``近12个月入户率``); two figures under one label must agree.

Why it catches issue 18's items 1–3 (and ``test_mutations_are_caught`` shows it for 1 and 2):
1. The old slide 3 wrote "累计脱贫 24,834户" (households exited now), the 脱贫进度 page "累计脱贫(户) 24,944".
   Both read as ``累计脱贫户数`` here: two numbers under one label.
2. The old 村档案 card and 帮扶力量 both said ``入户率`` (12 months vs 90 days): same label, two numbers.
3. The old 收入预警 judged a 2025 income against the 2026 line, 户档案 against the 2025 line: the label
   ``收入对照线·<户编号>`` (the line shown beside a household's income) took two values.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict

import pytest

from data_access import rules
from data_access.definitions import funds_rate_words, year_end_words
from data_access.queries import causes, dossier, exits, funds, monitoring, overview, places, villages
from data_access.queries import help as helpq
from data_access.report import brief, slides
from data_access.report import formatting as fmt
from data_access.report.money import headline_unit, unit_for
from data_access.scope import Scope
from tests.helpers import MEMBERS_AT, like, pick_scopes, year_end

YEARS = (2018, 2026)
REGISTERED = "kind = '建档立卡户' AND identified_year <= :y AND village_code LIKE :p"


class Seen:
    """label -> {source: shown text}."""

    def __init__(self):
        self.by_label: dict[str, dict[str, str]] = defaultdict(dict)

    def put(self, label: str, source: str, value) -> None:
        self.by_label[label][source] = str(value).replace(" ", "")  # "1,283.70 万元" reads as "1,283.70万元"

    def shared(self) -> dict[str, dict[str, str]]:
        """The labels shown in more than one place."""
        return {k: v for k, v in self.by_label.items() if len(v) > 1}

    def disagreements(self) -> dict[str, dict[str, str]]:
        return {k: v for k, v in self.shared().items() if len(set(v.values())) > 1}


def pc(value) -> str:
    """A percentage as the pages show it; NaN (a rate with no base) as "—", like None."""
    return fmt.percent(None if value is None or value != value else value)


def pair(seen: Seen, label: str, source: str, households, persons) -> None:
    seen.put(f"{label}户数", source, fmt.count(households))
    seen.put(f"{label}人数", source, fmt.count(persons))


# ---- the pages (query functions, labels as the pages show them) -----------------------------------


def from_pages(seen: Seen, engine, scope: Scope, year: int, as_of: dt.date) -> None:
    head = overview.headline(engine, scope, year)
    money = funds.totals(engine, scope, year)
    watch = monitoring.totals(engine, scope, year)
    src = "总览"
    pair(seen, "建档立卡", src, head["registered_households"], head["registered_persons"])
    pair(seen, "已脱贫", src, head["exited_households"], head["exited_persons"])
    pair(seen, "未脱贫", src, head["not_exited_households"], head["not_exited_persons"])
    seen.put("返贫户数", src, fmt.count(head["returned_households"]))
    seen.put("贫困发生率", src, pc(head["incidence"]))
    if scope.level != "village":
        seen.put("贫困村个数", src, fmt.count(head["poor_villages"]))
        seen.put("已出列贫困村个数", src, fmt.count(head["poor_villages_exited"]))
    word = "下达" if money["base"] == "allocated" else "安排"
    unit = headline_unit(money["allocated"] if money["base"] == "allocated" else money["arranged"])
    seen.put(f"资金{word}", src, fmt.money(money["allocated"] if money["base"] == "allocated"
                                          else money["arranged"], unit.name, digits=2))
    seen.put(funds_rate_words("拨付率", money["base"]), src, pc(money["paid_rate"]))
    seen.put(funds_rate_words("支出进度", money["base"]), src, pc(money["spent_rate"]))
    if year >= brief.MONITORING_SINCE:
        pair(seen, "监测对象", src, watch["households"], watch["persons"])
        seen.put("风险消除率", src, pc(watch["removal_rate"]))

    src = "脱贫进度"
    now = exits.progress(engine, scope, places.year_range(engine, scope)[0], year).set_index("year").loc[year]
    pair(seen, "累计脱贫(含其后返贫)", src, now["cum_exited_households"], now["cum_exited_persons"])
    seen.put("贫困发生率", src, pc(now["incidence"]))
    seen.put("未脱贫户数", src, fmt.count(exits.not_exited_list(engine, scope, year, limit=1)["households"]))
    seen.put("返贫户数", src, fmt.count(exits.returned_list(engine, scope, year, limit=1)["households"]))
    if scope.level != "village":
        pv = exits.poor_villages(engine, scope, year)
        seen.put("贫困村个数", src, fmt.count(len(pv)))
        seen.put("已出列贫困村个数", src, fmt.count(int(pv["exited"].sum())))

    src = "致贫原因"
    mix = causes.cause_mix(engine, scope, year)
    pair(seen, "建档立卡", src, int(mix["households"].sum()), int(mix["persons"].sum()))
    for r in mix.itertuples():
        if r.cause != causes.NO_CAUSE and int(r.households):
            seen.put(f"致贫原因·{r.cause}户数", src, fmt.count(r.households))

    src = "资金项目"
    ex = funds.execution(engine, scope, year, None, None)
    word = "下达" if ex["base"] == "allocated" else "安排"
    seen.put(f"资金{word}", src, fmt.money(ex["base_amount"], unit_for(ex["base_amount"]).name, digits=2))
    seen.put(funds_rate_words("拨付率", ex["base"]), src, pc(ex["paid_rate"]))
    seen.put(funds_rate_words("支出进度", ex["base"]), src, pc(ex["spent_rate"]))

    if year >= brief.MONITORING_SINCE:
        src = "防返贫监测"
        pair(seen, "监测对象", src, watch["households"], watch["persons"])
        seen.put("风险消除率", src, pc(watch["removal_rate"]))
        seen.put("仍有风险户数", src, fmt.count(watch["at_risk_households"]))
        # 收入预警 and 户档案: the line each household's income is judged against
        warned = monitoring.income_warnings(engine, scope, year, 10, limit=100_000)["rows"]
        near = exits.near_line(engine, scope, year, 10.0, limit=100_000)["rows"]
        for r in warned.head(15).itertuples():
            seen.put(f"收入对照线·{r.hh_id}", "防返贫监测·收入预警", f"{int(r.line):,}")
            income = dossier.household_income(engine, scope, r.hh_id).set_index("year")
            seen.put(f"收入对照线·{r.hh_id}", "户档案", f"{int(income.loc[int(r.income_year), 'line']):,}")
        for r in near.head(15).itertuples():
            seen.put(f"收入对照线·{r.hh_id}", "脱贫进度·收入临界", f"{int(r.line):,}")

    recent = helpq.visit_rates(engine, scope, (rules.window(as_of, 90),), "total").iloc[0]
    seen.put(rules.visit_rate_label(year, as_of, days=90), "帮扶力量·近期", pc(recent["visit_rate"]))
    yearly = helpq.visit_rates(engine, scope, (rules.visit_period(year, as_of),), "total").iloc[0]
    seen.put(rules.visit_rate_label(year, as_of), "帮扶力量·按年", pc(yearly["visit_rate"]))

    if scope.level == "village":
        row = villages.indicators(engine, scope, year, as_of).iloc[0]
        parent = Scope.of(scope.code[:9] + "000")
        ranked = villages.child_indicators(engine, parent, year, as_of).set_index("code").loc[scope.code]
        for src, r in (("村档案", row), ("总览·下级排名(乡镇)", ranked)):
            pair(seen, "建档立卡", src, r["registered_households"], r["registered_persons"])
            seen.put("未脱贫人数", src, fmt.count(r["not_exited_persons"]))
            seen.put("贫困发生率", src, pc(r["incidence"]))
            seen.put(villages.indicator_label("visit_rate", year, as_of), src, pc(r["visit_rate"]))
            if year >= brief.MONITORING_SINCE:
                seen.put("仍有风险户数", src, fmt.count(r["monitoring_at_risk"]))


# ---- the brief (.txt, .docx) and the slides (.pptx), read back -----------------------------------

NUM = r"([\d,]+)"
PCT = r"([\d.]+%)"
MONEY = r"([\d,.]+(?:万元|亿元))"


def from_paragraph(seen: Seen, text: str, src: str, year: int, when: str) -> None:
    """``when``: the words of the moment (``definitions.year_end_words``: 2018年底, 2026年10月31日)."""
    at = re.escape(when)
    patterns = [
        (rf"累计识别建档立卡贫困户{NUM}户{NUM}人", "建档立卡"),
        (rf"其中已脱贫{NUM}户{NUM}人", "已脱贫"),
        (rf"未脱贫{NUM}户{NUM}人", "未脱贫"),
        (rf"共识别防返贫监测对象{NUM}户{NUM}人", "监测对象"),
    ]
    for pat, label in patterns:
        m = re.search(pat, text)
        if m:
            seen.put(f"{label}户数", src, m.group(1))
            seen.put(f"{label}人数", src, m.group(2))
    singles = [
        (rf",返贫{NUM}户", "返贫户数"),
        (rf"{at}的{PCT}", "贫困发生率"), (rf"{at}贫困发生率为{PCT}", "贫困发生率"),
        (rf"共有贫困村{NUM}个", "贫困村个数"), (rf"已出列{NUM}个", "已出列贫困村个数"),
        (rf"下达各类扶贫资金{MONEY}", "资金下达"), (rf"项目的扶贫资金{MONEY}", "资金安排"),
        (rf"风险消除率{PCT}", "风险消除率"), (rf"仍有风险{NUM}户", "仍有风险户数"),
    ]
    for pat, label in singles:
        m = re.search(pat, text)
        if m:
            seen.put(label, src, m.group(1))
    if re.search(rf"共有贫困村[\d,]+个,截至{at}已全部出列", text):
        seen.put("已出列贫困村个数", src, re.search(rf"共有贫困村{NUM}个", text).group(1))
    for m in re.finditer(rf"(拨付率|支出进度)(\(占(?:下达|安排)\))?{PCT}", text):
        seen.put(m.group(1) + (m.group(2) or ""), src, m.group(3))
    m = re.search(r"其中主要致贫原因有:([^。]+)。", text)
    if m:
        for item in m.group(1).split("、"):
            cause, n = re.fullmatch(rf"(.+?){NUM}户", item).groups()
            seen.put(f"致贫原因·{cause}户数", src, n)


def docx_text(data: bytes) -> str:
    from docx import Document

    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def from_slides(seen: Seen, data: bytes, year: int, when: str) -> None:
    from pptx import Presentation

    for s in Presentation(io.BytesIO(data)).slides:
        boxes = [[p.text for p in sh.text_frame.paragraphs] for sh in s.shapes
                 if sh.has_text_frame and sh != s.shapes.title]
        text = "\n".join("\n".join(b) for b in boxes)
        src = f"幻灯片·{s.name}"
        if s.name == "主要指标":
            for b in boxes:
                if len(b) != 3:
                    continue
                label, value, note = b
                if label == "建档立卡贫困人口":
                    seen.put("建档立卡人数", src, value.removesuffix("人"))
                    seen.put("建档立卡户数", src, note.removesuffix("户"))
                elif label in ("已脱贫", "未脱贫"):
                    seen.put(f"{label}人数", src, value.removesuffix("人"))
                    seen.put(f"{label}户数", src, note.removesuffix("户"))
                elif label == "返贫":
                    seen.put("返贫户数", src, note.removesuffix("户"))
                elif label == "贫困发生率":
                    seen.put("贫困发生率", src, value)
                elif label == "贫困村出列":
                    done, total = value.removesuffix("个").split("/")
                    seen.put("已出列贫困村个数", src, done)
                    seen.put("贫困村个数", src, total)
                elif label.startswith(f"{year}年资金"):
                    seen.put(f"资金{label[-2:]}", src, value)
                if label.startswith(f"{year}年资金") and note:
                    kind, value = note.split(" ")
                    seen.put(kind, src, value)
                elif label == "防返贫监测对象":
                    seen.put("监测对象户数", src, value.removesuffix("户"))
                    if note.startswith("风险消除率 "):
                        seen.put("风险消除率", src, note.removeprefix("风险消除率 "))
        elif s.name == "脱贫进度":
            for pat, label in ((rf"累计脱贫\(含其后返贫\) {NUM}户{NUM}人", "累计脱贫(含其后返贫)"),
                               (rf"累计脱贫 {NUM}户{NUM}人", "累计脱贫"),
                               (rf"已脱贫 {NUM}户{NUM}人", "已脱贫"), (rf"未脱贫 {NUM}户{NUM}人", "未脱贫")):
                m = re.search(pat, text)
                if m:
                    seen.put(f"{label}户数", src, m.group(1))
                    seen.put(f"{label}人数", src, m.group(2))
            at = re.escape(when)
            m = re.search(rf"{at}的{PCT}", text) or re.search(rf"{at}贫困发生率为{PCT}", text)
            if m:
                seen.put("贫困发生率", src, m.group(1))
        elif s.name == "资金":
            m = re.search(r"比率以(下达|安排)为基数", text)
            if m:
                word = m.group(1)
                lines = text.split("\n")
                for label in ("拨付率", "支出进度"):
                    for shown in (label, f"{label}(占{word})"):  # a bare 拨付率 would be its own label
                        if shown in lines:
                            seen.put(shown, src, lines[lines.index(shown) + 1])
                seen.put(f"资金{word}", src, lines[lines.index(f"资金{word}") + 1])
        elif s.name == "防返贫监测":
            lines = text.split("\n")
            if "监测对象" in lines:
                h, p = re.fullmatch(rf"{NUM}户{NUM}人", lines[lines.index("监测对象") + 1]).groups()
                seen.put("监测对象户数", src, h)
                seen.put("监测对象人数", src, p)
                if "风险消除率" in lines:
                    seen.put("风险消除率", src, lines[lines.index("风险消除率") + 1])
                m = re.search(rf"仍有风险 {NUM}户", text)
                seen.put("仍有风险户数", src, m.group(1))


# ---- independent SQL ----------------------------------------------------------------------------------


def from_sql(seen: Seen, q, scope: Scope, year: int) -> None:
    p, src = like(scope), "SQL"
    end = year_end(year)  # people: the members at the year's end
    reg = q.one(f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE {REGISTERED}",
                y=year, p=p, end=end)
    pair(seen, "建档立卡", src, *reg)
    ever = q.one(f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE {REGISTERED} "
                 "AND exit_year IS NOT NULL AND exit_year <= :y", y=year, p=p, end=end)
    pair(seen, "累计脱贫(含其后返贫)", src, *ever)
    now = q.one(f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE {REGISTERED} "
                "AND exit_year IS NOT NULL AND exit_year <= :y AND (returned_year IS NULL OR returned_year > :y)",
                y=year, p=p, end=end)
    pair(seen, "已脱贫", src, *now)


# ---- the test ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def places_picked(registry_engine) -> dict[str, str]:
    return pick_scopes(registry_engine)


def data_as_of(engine) -> dt.date:
    return dt.date.fromisoformat(str(places.data_meta(engine)["data_as_of"])[:10])


def collect(engine, q, scope: Scope, year: int) -> Seen:
    as_of = data_as_of(engine)
    seen = Seen()
    from_pages(seen, engine, scope, year, as_of)
    facts = brief.brief_facts(engine, scope, year, places.year_range(engine, scope)[0])
    txt = brief.brief_txt(facts).decode("utf-8-sig")
    when = year_end_words(year, as_of)
    from_paragraph(seen, txt, "基本情况.txt", year, when)
    from_paragraph(seen, docx_text(brief.brief_docx(facts)), "基本情况.docx", year, when)
    from_slides(seen, slides.build_pptx(engine, scope, year, facts["first_year"]), year, when)
    from_sql(seen, q, scope, year)
    return seen


# labels that must be seen in more than one place, or the test would compare nothing
MUST_SHARE = {
    "county": ["建档立卡户数", "已脱贫户数", "已脱贫人数", "累计脱贫(含其后返贫)户数", "贫困发生率",
               "已出列贫困村个数", "资金下达", "拨付率(占下达)", "支出进度(占下达)"],
    "town": ["建档立卡户数", "已脱贫户数", "累计脱贫(含其后返贫)户数", "贫困发生率", "拨付率(占安排)"],
    "village": ["建档立卡户数", "已脱贫户数", "贫困发生率", "{visit}"],
}


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("which", ["county", "town", "village"])
def test_same_label_same_figure(registry_engine, q, places_picked, which, year):
    scope = Scope.of(places_picked[which])
    seen = collect(registry_engine, q, scope, year)
    shared = seen.shared()
    visit = rules.visit_rate_label(year, data_as_of(registry_engine))
    for label in (x.format(visit=visit) for x in MUST_SHARE[which]):
        assert label in shared, (label, seen.by_label.get(label))
    if year >= brief.MONITORING_SINCE:
        assert any(k.startswith("收入对照线·") and len(v) > 1 for k, v in shared.items())
    assert not seen.disagreements(), seen.disagreements()


def test_mutations_are_caught(registry_engine, q, places_picked, monkeypatch):
    """Put back the old code of items 1 and 2 and the collector finds two numbers under one label."""
    scope, year = Scope.of(places_picked["county"]), 2026

    def old_exits_lines(facts):  # item 1: slide 3 called the households exited now 累计脱贫
        h = facts["headline"]
        return [f"累计脱贫 {h['exited_households']:,}户{h['exited_persons']:,}人。"]

    monkeypatch.setattr(slides, "exits_lines", old_exits_lines)
    # item 2: the village card and 帮扶力量 both labelled 入户率, whatever the period
    monkeypatch.setattr(rules, "visit_rate_label", lambda *a, **k: "入户率")
    monkeypatch.setattr(villages, "indicator_label", lambda *a, **k: "入户率")
    seen = collect(registry_engine, q, scope, year)
    # the old 脱贫进度 page said 累计脱贫(户), without the words 含其后返贫 it carries now
    seen.put("累计脱贫户数", "脱贫进度", seen.by_label["累计脱贫(含其后返贫)户数"]["脱贫进度"])
    bad = seen.disagreements()
    assert "入户率" in bad, seen.by_label.get("入户率")  # 90 days and 12 months under one label
    assert seen.by_label["累计脱贫(含其后返贫)户数"]["SQL"] != seen.by_label["已脱贫户数"]["SQL"]
    assert "累计脱贫户数" in bad, seen.by_label.get("累计脱贫户数")
    monkeypatch.undo()
    assert rules.visit_rate_label(2026, dt.date(2026, 10, 31)) == "近12个月入户率"
