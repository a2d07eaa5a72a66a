"""会议材料: the 基本情况 paragraph of a work report, written from the data (.txt / .docx).

``brief_facts(engine, scope, year)`` gathers every figure by calling the same query functions
the pages call (overview.headline, causes.cause_mix, funds.totals, monitoring.totals,
places.*); no figure has SQL of its own here. ``brief_paragraph(facts)`` writes the paragraph
in the register of the county and township reports ("截至…年底,…累计识别建档立卡贫困户xx户xxx人,
…其中主要致贫原因有:因病xx户、…"). A clause whose data is absent is left out (no "None", no
division by zero). Numbers are formatted by the rules the pages use:

- counts with thousands separators (``report.formatting.count``): 1,234;
- percentages with two decimals, as ``queries.common.pct`` rounds them (fewer digits would round a
  second time; ``report.formatting.percent``);
- money as the 资金项目 page shows it (``report.money.headline_unit`` and ``MoneyUnit.text``, written
  without the space): 万元 with two decimals, or 亿元 with four once the largest amount of the clause
  reaches 1 亿元, rounded half up; 拨付率 and 支出进度 with two decimals.

No streamlit here.
"""

from __future__ import annotations

import io
from typing import Callable

from sqlalchemy.engine import Engine

from . import era as era_words
from . import formatting as fmt
from .money import headline_unit
from ..codes import is_consolidation_year
from ..definitions import funds_rate_words, year_end_words
from ..queries import causes, funds, monitoring, overview, places
from ..scope import Scope

MONITORING_SINCE = 2021  # 防返贫动态监测 starts in 2021 (as the 防返贫监测 page says)
TOP_CAUSES = 5
TITLE = "基本情况"


# ---- the facts ---------------------------------------------------------------------------


def region_word(scope: Scope) -> str:
    """How a report names its own area: 全县, 全镇, 全乡, 全街道, 全村 (全市, 全省 above the county)."""
    if scope.level == "town":
        n = int(scope.code[6:9])
        return "全街道" if n < 100 else ("全镇" if n < 200 else "全乡")
    return {"province": "全省", "city": "全市", "county": "全县", "village": "全村"}[scope.level]


def brief_facts(engine: Engine, scope: Scope, year: int, first_year: int | None = None,
                fetcher: Callable | None = None) -> dict:
    """Every figure of the paragraph for ``scope`` at the end of ``year``.

    ``first_year``: the year the incidence is compared with (the page's first year; default the
    first 识别年度 in the scope). Keys: region_code, region_name, level, region_word, year,
    first_year, as_of, cutoff (the moment in words: "2025年底", or "2026年10月31日" when the data stop before
    the year's end; ``definitions.year_end_words``), headline (overview.headline at ``year``), first_incidence (at
    ``first_year``, None when the same year or no rural population), village (the scope's own
    region row for a village scope, else None), causes (list of {cause, households, persons},
    the top causes with their share of the scope's households in %, 未填写 left out), funds
    (funds.totals), monitoring (monitoring.totals, None before 2021), era (2021 onward:
    report.era.headline, which the paragraph then leads with; None before).
    ``fetcher(fn, *args)`` runs each query instead of calling it directly (the UI passes its cache, so the
    paragraph and the page around it share one result per query, as ``talking_points`` does).
    """
    def get(fn: Callable, *args):
        return fetcher(fn, *args) if fetcher is not None else fn(engine, scope, *args)

    info = get(places.region_info) or {}
    meta = places.data_meta(engine)
    if first_year is None:
        first_year = get(places.year_range)[0]
    head = get(overview.headline, year)
    first_incidence = None
    if first_year < year:
        first_incidence = get(overview.headline, first_year)["incidence"]
    mix = get(causes.cause_mix, year)
    top = [
        {"cause": str(r["cause"]), "households": int(r["households"]), "persons": int(r["persons"]),
         "households_pct": r["households_pct"]}
        for r in mix.to_dict("records") if r["cause"] != causes.NO_CAUSE and int(r["households"]) > 0
    ][:TOP_CAUSES]
    return {
        "region_code": scope.code, "region_name": str(info.get("name") or scope.code), "level": scope.level,
        "region_word": region_word(scope), "year": int(year), "first_year": int(first_year),
        "as_of": meta.get("data_as_of"), "cutoff": year_end_words(year, meta.get("data_as_of")),
        "headline": head, "first_incidence": first_incidence,
        "village": info if scope.level == "village" else None,
        "causes": top,
        "funds": get(funds.totals, year),
        "monitoring": get(monitoring.totals, year) if year >= MONITORING_SINCE else None,
        "era": era_words.headline(engine, scope, year, fetcher) if is_consolidation_year(year) else None,
    }


# ---- the paragraph -------------------------------------------------------------------------


def cutoff(f: dict) -> str:
    """The moment the paragraph's figures stand at ("2025年底" / "2026年10月31日"), for facts without it too."""
    return f.get("cutoff") or f"{f['year']}年底"


def _pair(h: int, p: int) -> str:
    return f"{fmt.count(h)}户{fmt.count(p)}人"


def registry_sentence(f: dict) -> str | None:
    h = f["headline"]
    if not h["registered_households"]:
        return None
    parts = [f"截至{cutoff(f)},{f['region_name']}累计识别建档立卡贫困户"
             f"{_pair(h['registered_households'], h['registered_persons'])}"]
    parts.append(f"其中已脱贫{_pair(h['exited_households'], h['exited_persons'])}")
    parts.append(f"未脱贫{_pair(h['not_exited_households'], h['not_exited_persons'])}")
    parts.append(f"返贫{_pair(h['returned_households'], h['returned_persons'])}")
    return ",".join(parts) + "。"


def incidence_sentence(f: dict) -> str | None:
    now = f["headline"]["incidence"]
    if now is None:
        return None
    then = f["first_incidence"]
    if then is None:
        return f"{cutoff(f)}贫困发生率为{fmt.percent(now)}。"
    verb = "降至" if now < then else ("升至" if now > then else "保持在")
    return f"贫困发生率由{f['first_year']}年的{fmt.percent(then)}{verb}{cutoff(f)}的{fmt.percent(now)}。"


def causes_sentence(f: dict) -> str | None:
    if not f["causes"]:
        return None
    items = "、".join(f"{c['cause']}{fmt.count(c['households'])}户" for c in f["causes"])
    return f"其中主要致贫原因有:{items}。"


def villages_sentence(f: dict) -> str | None:
    h, year = f["headline"], f["year"]
    if f["level"] == "village":
        v = f["village"] or {}
        if not v.get("is_poor_village"):
            return None
        exit_year = v.get("poor_village_exit_year")
        if exit_year is not None and exit_year == exit_year and int(exit_year) <= year:
            return f"本村为贫困村,已于{int(exit_year)}年出列。"
        return f"本村为贫困村,截至{cutoff(f)}尚未出列。"
    if not h["poor_villages"]:
        return None
    text = f"{f['region_word']}共有贫困村{fmt.count(h['poor_villages'])}个,"
    if h["poor_villages_remaining"] == 0:
        return text + f"截至{cutoff(f)}已全部出列。"
    return (text + f"截至{cutoff(f)}已出列{fmt.count(h['poor_villages_exited'])}个,"
            f"尚未出列{fmt.count(h['poor_villages_remaining'])}个。")


def funds_sentence(f: dict) -> str | None:
    m, year = f["funds"], f["year"]
    base = m["allocated"] if m["base"] == "allocated" else m["arranged"]
    if not base and not m["paid"] and not m["spent"]:
        return None
    unit = headline_unit(base, m["arranged"], m["paid"], m["spent"])  # read aloud: 亿元 to 2 decimals
    if m["base"] == "allocated":
        text = (f"{year}年,{f['region_word']}下达各类扶贫资金{unit.text(m['allocated'], sep='')},"
                f"已安排到项目{unit.text(m['arranged'], sep='')}")
    else:
        text = f"{year}年,安排到{f['region_word']}项目的扶贫资金{unit.text(m['arranged'], sep='')}"
    text += f";已拨付{unit.text(m['paid'], sep='')}"
    if m["paid_rate"] is not None:
        text += f",{funds_rate_words('拨付率', m['base'])}{fmt.percent(m['paid_rate'])}"
    text += f";已支出{unit.text(m['spent'], sep='')}"
    if m["spent_rate"] is not None:
        text += f",{funds_rate_words('支出进度', m['base'])}{fmt.percent(m['spent_rate'])}"
    return text + "。"


def monitoring_sentence(f: dict) -> str | None:
    w = f["monitoring"]
    if w is None:
        return None
    if not w["households"]:
        return f"截至{cutoff(f)},{f['region_word']}未识别防返贫监测对象。"
    text = (f"截至{cutoff(f)},{f['region_word']}共识别防返贫监测对象{_pair(w['households'], w['persons'])},"
            f"已消除风险{_pair(w['removed_households'], w['removed_persons'])}")
    if w["removal_rate"] is not None:
        text += f",风险消除率{fmt.percent(w['removal_rate'])}"
    if w["at_risk_households"]:
        text += f",仍有风险{_pair(w['at_risk_households'], w['at_risk_persons'])}"
    return text + "。"


SENTENCES = (registry_sentence, incidence_sentence, causes_sentence, villages_sentence, funds_sentence,
             monitoring_sentence)


# ---- 2021 onward: the paragraph leads with 脱贫人口 and 监测对象 (report.era); no 贫困发生率 -------------------


def era_sentence(f: dict) -> str | None:
    return era_words.sentence(f["era"], f["region_name"], f["region_word"], cutoff(f)) if f.get("era") else None


def history_sentence(f: dict) -> str | None:
    """The campaign's registry in one clause, after the era's figures."""
    h = f["headline"]
    if not h["registered_households"]:
        return None
    return f"脱贫攻坚期间累计识别建档立卡贫困户{_pair(h['registered_households'], h['registered_persons'])}。"


ERA_SENTENCES = (era_sentence, history_sentence, causes_sentence, villages_sentence, funds_sentence)


def brief_paragraph(facts: dict) -> str:
    """The 基本情况 paragraph: the sentences whose data is present, in the reports' order (for 2021 onward,
    when the facts carry ``era``, ERA_SENTENCES)."""
    sentences = ERA_SENTENCES if facts.get("era") else SENTENCES
    text = "".join(s for s in (fn(facts) for fn in sentences) if s)
    if not text:
        return f"截至{cutoff(facts)},{facts['region_name']}暂无建档立卡数据。"
    return text


def brief_title(facts: dict) -> str:
    return f"{facts['region_name']}{facts['year']}年脱贫攻坚与防返贫监测{TITLE}"


def source_line(facts: dict) -> str:
    return f"数据来源:扶贫数据驾驶舱,数据截至{facts['as_of'] or '未知'}。"


# ---- files -----------------------------------------------------------------------------


TALKING_TITLE = "讲话要点"


def talking_lines(points) -> list[str]:
    """The 讲话要点 sentences (``report.talking_points``) numbered as a report lists them: 1. … 2. …"""
    return [f"{i}. {s}" for i, s in enumerate(points or (), 1)]


def brief_txt(facts: dict, points=()) -> bytes:
    """The paragraph as UTF-8 text (with a BOM, so Windows Notepad reads it as UTF-8); ``points`` (the 讲话要点
    sentences) follow it under their heading when given."""
    said = "".join(f"{line}\n" for line in talking_lines(points))
    said = f"\n{TALKING_TITLE}\n{said}" if said else ""
    text = f"{brief_title(facts)}\n\n{brief_paragraph(facts)}\n{said}\n{source_line(facts)}\n"
    return ("\ufeff" + text).encode("utf-8")


def _east_asian(run, font: str) -> None:
    """Set the run's East Asian font as well (Word picks it for Chinese characters)."""
    from docx.oxml.ns import qn

    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), font)


def brief_docx(facts: dict, points=()) -> bytes:
    """The paragraph as a Word document: title, the paragraph (first-line indent), the 讲话要点 when
    ``points`` (their sentences) are given, the data date."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    doc = Document()
    for section in doc.sections:  # A4 (python-docx's template is US Letter)
        section.page_width, section.page_height = Mm(210), Mm(297)
    doc.core_properties.title = brief_title(facts)
    doc.core_properties.author = "扶贫数据驾驶舱"
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(brief_title(facts))
    run.bold = True
    run.font.size = Pt(18)
    _east_asian(run, "黑体")
    heading = doc.add_paragraph()
    run = heading.add_run(f"一、{TITLE}")
    run.bold = True
    run.font.size = Pt(16)
    _east_asian(run, "黑体")
    body = doc.add_paragraph()
    body.paragraph_format.first_line_indent = Pt(32)
    body.paragraph_format.line_spacing = 1.5
    run = body.add_run(brief_paragraph(facts))
    run.font.size = Pt(16)
    _east_asian(run, "仿宋")
    lines = talking_lines(points)
    if lines:
        heading = doc.add_paragraph()
        run = heading.add_run(f"二、{TALKING_TITLE}")
        run.bold = True
        run.font.size = Pt(16)
        _east_asian(run, "黑体")
    for line in lines:
        item = doc.add_paragraph()
        item.paragraph_format.first_line_indent = Pt(32)
        item.paragraph_format.line_spacing = 1.5
        run = item.add_run(line)
        run.font.size = Pt(16)
        _east_asian(run, "仿宋")
    note = doc.add_paragraph()
    run = note.add_run(source_line(facts))
    run.font.size = Pt(12)
    _east_asian(run, "仿宋")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()

