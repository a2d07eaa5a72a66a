"""会议材料: meeting slides (.pptx, 16:9) for a region and year, built from the data. No streamlit.

``build_pptx(engine, scope, year)`` returns the bytes of a deck with these slides, each named
(``slide.name``) and titled (the title placeholder) with its SLIDE_NAMES entry:

- 封面: region, year, 数据截至 date (and 演示数据 on demo data); the 基本情况 paragraph (and the 讲话要点 when
  given) as notes;
- 主要指标: the key figures as large cards; the same notes;
- 脱贫进度, 致贫原因, 资金, 防返贫监测, 地图: one chart each (PNG rendered offline by vl-convert
  from the Vega-Lite specs in ``report.charts``) with its key figures beside it. A slide whose
  data is absent says so in words instead of a chart.

Every figure comes from the query functions the pages call (through ``brief.brief_facts`` and
the same functions for the charts). Type: titles 36 pt, body 20–24 pt, figures 40 pt.
"""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy.engine import Engine

from . import brief, charts
from . import era as era_words
from ..definitions import funds_rate_words
from . import formatting as fmt
from .money import headline_unit
from ..queries import causes, common, monitoring, places, villages
from ..scope import Scope

SLIDE_NAMES = ("封面", "主要指标", "脱贫进度", "致贫原因", "资金", "防返贫监测", "地图")
CHART_SLIDES = ("脱贫进度", "致贫原因", "资金", "防返贫监测", "地图")

FONT = "Microsoft YaHei"  # Office's CJK sans; LibreOffice falls back to Noto Sans CJK
TITLE_PT = 36
BODY_PT = 22
SMALL_PT = 20
FIGURE_PT = 40
DARK = "111111"
GREY = "444444"
BLUE = "0072B2"
VERMILION = "D55E00"

WIDTH_IN, HEIGHT_IN = 13.333, 7.5


def _pptx():
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
    from pptx.util import Emu, Inches, Pt

    return Presentation, RGBColor, MSO_ANCHOR, PP_ALIGN, Emu, Inches, Pt


def _font(run, size: float, bold: bool = False, color: str = DARK) -> None:
    from pptx.dml.color import RGBColor
    from pptx.oxml.ns import qn
    from pptx.util import Pt

    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run.font.color.rgb = RGBColor.from_string(color)
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):
        el = rpr.find(qn(tag))
        if el is None:
            el = rpr.makeelement(qn(tag), {})
            rpr.append(el)
        el.set("typeface", FONT)


def _text(frame, lines, size: float = BODY_PT, bold: bool = False, color: str = DARK, align=None,
          space_after: float = 6) -> None:
    """Fill a text frame with ``lines``: each a str or a list of (text, size, bold, color) runs."""
    from pptx.util import Pt

    frame.word_wrap = True
    for i, line in enumerate(lines):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        if align is not None:
            para.alignment = align
        para.space_after = Pt(space_after)
        runs = [(line, size, bold, color)] if isinstance(line, str) else line
        for text, s, b, c in runs:
            run = para.add_run()
            run.text = text
            _font(run, s, b, c)


class Deck:
    def __init__(self):
        Presentation, _, _, _, _, Inches, _ = _pptx()
        self.prs = Presentation()
        self.prs.slide_width = Inches(WIDTH_IN)
        self.prs.slide_height = Inches(HEIGHT_IN)
        self.Inches = Inches

    def slide(self, name: str, title: str, notes: str | None = None, title_top: float = 0.3,
              title_height: float = 0.95, title_size: float = TITLE_PT, centered: bool = False):
        from pptx.enum.text import MSO_ANCHOR, PP_ALIGN

        In = self.Inches
        s = self.prs.slides.add_slide(self.prs.slide_layouts[5])  # Title Only
        s._element.cSld.set("name", name)
        t = s.shapes.title
        t.left, t.top, t.width, t.height = In(0.5), In(title_top), In(WIDTH_IN - 1.0), In(title_height)
        tf = t.text_frame
        tf.clear()
        tf.vertical_anchor = MSO_ANCHOR.MIDDLE
        _text(tf, [title], title_size, True, DARK, PP_ALIGN.CENTER if centered else PP_ALIGN.LEFT, 0)
        if not centered:  # a thin blue rule under the title
            from pptx.dml.color import RGBColor
            from pptx.enum.shapes import MSO_SHAPE

            bar = s.shapes.add_shape(MSO_SHAPE.RECTANGLE, In(0.5), In(title_top + title_height + 0.02),
                                     In(WIDTH_IN - 1.0), In(0.05))
            bar.fill.solid()
            bar.fill.fore_color.rgb = RGBColor.from_string(BLUE)
            bar.line.fill.background()
        if notes:
            s.notes_slide.notes_text_frame.text = notes
        return s

    def box(self, s, left, top, width, height, lines, size=BODY_PT, bold=False, color=DARK, align=None,
            anchor=None, space_after: float = 6):
        In = self.Inches
        tb = s.shapes.add_textbox(In(left), In(top), In(width), In(height))
        if anchor is not None:
            tb.text_frame.vertical_anchor = anchor
        _text(tb.text_frame, lines, size, bold, color, align, space_after)
        return tb

    def picture(self, s, png: bytes, left, top, max_width, max_height):
        """The image fitted inside the box (aspect kept), centred in it."""
        from PIL import Image

        In = self.Inches
        with Image.open(io.BytesIO(png)) as im:
            w, h = im.size
        scale = min(max_width / w, max_height / h)
        width, height = w * scale, h * scale
        return s.shapes.add_picture(io.BytesIO(png), In(left + (max_width - width) / 2),
                                    In(top + (max_height - height) / 2), In(width), In(height))

    def save(self) -> bytes:
        out = io.BytesIO()
        self.prs.save(out)
        return out.getvalue()


# ---- the deck --------------------------------------------------------------------------------


def _as_of(facts: dict) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(facts["as_of"])[:10])
    except (TypeError, ValueError):
        return None


def fit_size(text: str, width_in: float, largest: float = FIGURE_PT, smallest: float = 24) -> float:
    """The largest type size (pt) up to ``largest`` at which ``text`` fits on one line of ``width_in``
    inches (a CJK character is one em wide; a bold digit or sign, with the spacing LibreOffice and
    Office add between Chinese and digits, about 0.8 em)."""
    ems = sum(1.0 if ord(ch) > 0x2E80 else 0.8 for ch in text)
    return max(smallest, min(largest, int(width_in * 72 / max(ems, 1))))


def key_figures(facts: dict) -> list[tuple[str, str, str]]:
    """(label, value, note) of the key-figure cards, in the order shown; absent figures left out. For 2021
    onward (facts with ``era``) the era's cards (``report.era.slide_figures``): no 贫困发生率 after 2020."""
    if facts.get("era"):
        return era_words.slide_figures(facts["era"])
    h, year = facts["headline"], facts["year"]
    cards = [
        # one unit for the big figures (人), the households under each: 户 beside 人 would read as comparable
        ("建档立卡贫困人口", f"{fmt.count(h['registered_persons'])}人", f"{fmt.count(h['registered_households'])}户"),
        ("已脱贫", f"{fmt.count(h['exited_persons'])}人", f"{fmt.count(h['exited_households'])}户"),
        ("未脱贫", f"{fmt.count(h['not_exited_persons'])}人", f"{fmt.count(h['not_exited_households'])}户"),
        ("返贫", f"{fmt.count(h['returned_persons'])}人", f"{fmt.count(h['returned_households'])}户"),
    ]
    if h["incidence"] is not None:
        then = facts["first_incidence"]
        cards.append(("贫困发生率", fmt.percent(h["incidence"]),
                      f"{facts['first_year']}年 {fmt.percent(then)}" if then is not None else brief.cutoff(facts)))
    v = facts["village"] or {}
    if facts["level"] == "village" and v.get("is_poor_village"):
        y = v.get("poor_village_exit_year")
        exited = y is not None and y == y and int(y) <= year
        cards.append(("贫困村", f"{int(y)}年出列" if exited else "未出列", "本村为贫困村"))
    if facts["level"] != "village" and h["poor_villages"]:
        cards.append(("贫困村出列", f"{fmt.count(h['poor_villages_exited'])}/{fmt.count(h['poor_villages'])}个",
                      f"尚未出列 {fmt.count(h['poor_villages_remaining'])}个"))
    m = facts["funds"]
    base = m["allocated"] if m["base"] == "allocated" else m["arranged"]
    if base or m["paid"] or m["spent"]:
        unit = headline_unit(base, m["arranged"], m["paid"], m["spent"])
        word = "下达" if m["base"] == "allocated" else "安排"
        rate = (f"{funds_rate_words('支出进度', m['base'])} {fmt.percent(m['spent_rate'])}"
                if m["spent_rate"] is not None else "")
        cards.append((f"{year}年资金{word}", unit.text(base, sep=""), rate))
    w = facts["monitoring"]
    if w is not None:
        rate = f"风险消除率 {fmt.percent(w['removal_rate'])}" if w["removal_rate"] is not None else ""
        cards.append(("防返贫监测对象", f"{fmt.count(w['households'])}户", rate))
    return cards


def exits_lines(facts: dict) -> list[str]:
    """The words under the 脱贫进度 chart: 累计脱贫(含其后返贫) (``rules.ever_exited_by``, the 脱贫进度 page's
    figure), then the year-end states 已脱贫 / 未脱贫 / 返贫 (the overview's), then the incidence."""
    h = facts["headline"]
    said = [f"累计脱贫(含其后返贫) {fmt.count(h['ever_exited_households'])}户{fmt.count(h['ever_exited_persons'])}人;"
            f"{brief.cutoff(facts)}已脱贫 {fmt.count(h['exited_households'])}户{fmt.count(h['exited_persons'])}人,"
            f"未脱贫 {fmt.count(h['not_exited_households'])}户{fmt.count(h['not_exited_persons'])}人,"
            f"返贫 {fmt.count(h['returned_households'])}户{fmt.count(h['returned_persons'])}人。"]
    inc = brief.incidence_sentence(facts) if not facts.get("era") else era_words.NO_INCIDENCE_NOTE
    if inc:
        said.append(inc)
    return said


def build_pptx(engine: Engine, scope: Scope, year: int, first_year: int | None = None, points=()) -> bytes:
    """The meeting deck for ``scope`` at the end of ``year`` (see the module doc). ``points``: the 讲话要点
    sentences (``report.talking_points``), added to the speaker notes of 封面 and 主要指标."""
    from pptx.enum.text import PP_ALIGN

    facts = brief.brief_facts(engine, scope, year, first_year)
    paragraph = brief.brief_paragraph(facts)
    notes = paragraph
    said = brief.talking_lines(points)
    if said:
        notes += f"\n\n{brief.TALKING_TITLE}:\n" + "\n".join(said)
    meta = places.data_meta(engine)
    first = facts["first_year"]
    name = facts["region_name"]
    deck = Deck()

    # 封面
    s = deck.slide("封面", f"{name}{year}年脱贫攻坚与防返贫监测工作汇报", notes, title_top=2.2,
                   title_height=1.6, title_size=40, centered=True)
    lines = [f"数据截至 {facts['as_of'] or '未知'}"]
    if meta.get("is_demo") == "1":
        lines.append([("演示数据(虚构)", BODY_PT, True, VERMILION)])
    lines.append([("扶贫数据驾驶舱", SMALL_PT, False, GREY)])
    deck.box(s, 0.5, 4.2, WIDTH_IN - 1.0, 2.0, lines, BODY_PT + 2, align=PP_ALIGN.CENTER)

    # 主要指标
    s = deck.slide("主要指标", f"主要指标({brief.cutoff(facts)})", notes)
    cards = key_figures(facts)
    cols = 4
    card_w, card_h, gap = 2.9, 2.45, 0.18
    for i, (label, value, note) in enumerate(cards):
        r, c = divmod(i, cols)
        left, top = 0.5 + c * (card_w + gap), 1.5 + r * (card_h + gap)
        from pptx.dml.color import RGBColor
        from pptx.enum.shapes import MSO_SHAPE

        card = s.shapes.add_shape(MSO_SHAPE.RECTANGLE, deck.Inches(left), deck.Inches(top), deck.Inches(card_w),
                                  deck.Inches(card_h))
        card.fill.solid()
        card.fill.fore_color.rgb = RGBColor.from_string("F2F6FA")
        card.line.color.rgb = RGBColor.from_string("C9D6E3")
        deck.box(s, left + 0.1, top + 0.12, card_w - 0.2, card_h - 0.2,
                 [[(label, SMALL_PT + 2, False, GREY)], [(value, fit_size(value, card_w - 0.5), True, BLUE)],
                  [(note, SMALL_PT, False, GREY)]], space_after=4)

    # 脱贫进度
    s = deck.slide("脱贫进度", "脱贫进度")
    yearly = common.yearly(engine, scope, first, year)
    said = exits_lines(facts)
    png = charts.to_png(charts.exits_spec(yearly, year, width=1180, height=380))
    deck.picture(s, png, 0.4, 1.45, WIDTH_IN - 0.8, 4.75)
    deck.box(s, 0.5, 6.3, WIDTH_IN - 1.0, 1.1, said, SMALL_PT, space_after=2)

    # 致贫原因
    s = deck.slide("致贫原因", "致贫原因")
    mix = causes.cause_mix(engine, scope, year)
    if mix.empty or int(mix["households"].sum()) == 0:
        deck.box(s, 0.5, 2.0, WIDTH_IN - 1.0, 2.0, [f"{brief.cutoff(facts)}本范围没有建档立卡户。"], BODY_PT)
    else:
        png = charts.to_png(charts.causes_spec(mix, width=760, height=470))
        deck.picture(s, png, 0.3, 1.45, 8.4, 5.8)
        top = facts["causes"][:3]
        total = int(mix["households"].sum())
        lines = [[("主要致贫原因", BODY_PT, True, DARK)]]
        lines += [f"{c['cause']} {fmt.count(c['households'])}户({fmt.percent(c['households_pct'])})"
                  for c in top if c["households_pct"] is not None]
        lines.append([(f"共 {fmt.count(total)}户,按主要致贫原因(每户一项)统计。", SMALL_PT, False, GREY)])
        deck.box(s, 8.9, 1.8, 4.0, 5.0, lines, BODY_PT, space_after=10)

    # 资金
    s = deck.slide("资金", f"{year}年扶贫资金")
    m = facts["funds"]
    base = m["allocated"] if m["base"] == "allocated" else m["arranged"]
    if not base and not m["paid"] and not m["spent"]:
        where = {"county": "下达到本县", "town": "安排到本乡镇项目", "village": "安排到本村项目"}.get(
            scope.level, "下达到本范围")
        deck.box(s, 0.5, 2.0, WIDTH_IN - 1.0, 2.0, [f"{year}年没有{where}的扶贫资金。"], BODY_PT)
    else:
        unit = headline_unit(base, m["arranged"], m["paid"], m["spent"])
        png = charts.to_png(charts.funds_spec(m, unit, width=700, height=440))
        deck.picture(s, png, 0.3, 1.45, 8.2, 5.8)
        word = "下达" if m["base"] == "allocated" else "安排"
        lines = [[(f"资金{word}", SMALL_PT, False, GREY)], [(unit.text(base, sep=""), 32, True, BLUE)]]
        if m["paid_rate"] is not None:
            lines += [[(funds_rate_words("拨付率", m["base"]), SMALL_PT, False, GREY)],
                      [(fmt.percent(m["paid_rate"]), 32, True, BLUE)]]
        if m["spent_rate"] is not None:
            lines += [[(funds_rate_words("支出进度", m["base"]), SMALL_PT, False, GREY)],
                      [(fmt.percent(m["spent_rate"]), 32, True, BLUE)]]
        lines.append([(f"项目 {fmt.count(m['projects'])}个;比率以{word}为基数。", SMALL_PT, False, GREY)])
        deck.box(s, 8.8, 1.6, 4.1, 5.6, lines, BODY_PT, space_after=4)

    # 防返贫监测
    s = deck.slide("防返贫监测", "防返贫监测")
    w = facts["monitoring"]
    if w is None:
        deck.box(s, 0.5, 2.0, WIDTH_IN - 1.0, 2.0,
                 [f"防返贫动态监测自{brief.MONITORING_SINCE}年开始,{year}年尚无监测对象。"], BODY_PT)
    elif not w["households"]:
        deck.box(s, 0.5, 2.0, WIDTH_IN - 1.0, 2.0, [f"截至{brief.cutoff(facts)},本范围未识别防返贫监测对象。"], BODY_PT)
    else:
        kinds = monitoring.breakdown(engine, scope, year, "kind")
        png = charts.to_png(charts.monitoring_spec(kinds, width=700, height=360))
        deck.picture(s, png, 0.3, 1.45, 8.2, 5.8)
        lines = [[("监测对象", SMALL_PT, False, GREY)],
                 [(f"{fmt.count(w['households'])}户{fmt.count(w['persons'])}人", 32, True, BLUE)],
                 [("已消除风险", SMALL_PT, False, GREY)],
                 [(f"{fmt.count(w['removed_households'])}户{fmt.count(w['removed_persons'])}人", 32, True, BLUE)]]
        if w["removal_rate"] is not None:
            lines += [[("风险消除率", SMALL_PT, False, GREY)], [(fmt.percent(w["removal_rate"]), 32, True, BLUE)]]
        lines.append([(f"仍有风险 {fmt.count(w['at_risk_households'])}户{fmt.count(w['at_risk_persons'])}人",
                       SMALL_PT, False, VERMILION)])
        deck.box(s, 8.8, 1.6, 4.1, 5.6, lines, BODY_PT, space_after=4)

    # 地图 (2021 onward: 风险未消除监测户 per village, no 贫困发生率)
    era = bool(facts.get("era"))
    s = deck.slide("地图", f"村级地图:{brief.cutoff(facts)}{'风险未消除监测户' if era else '贫困发生率'}")
    area = Scope.of(scope.code[:9] + "000") if scope.level == "village" else scope
    geo = places.geometries(engine, area, "village")
    spec = None
    if not geo.empty:
        as_of = _as_of(facts) or dt.date(year, 12, 31)
        ind = villages.indicators(engine, area, year, as_of)
        values = {str(c): v for c, v in zip(ind["code"], ind["monitoring_at_risk" if era else "incidence"])}
        towns = places.geometries(engine, area, "town") if area.level not in ("town", "village") else None
        shape = dict(title="风险未消除监测户", unit="户", digits=0) if era else {}
        spec = charts.map_spec(geo, values, towns, focus=scope.code if scope.level == "village" else None,
                                    label_level="town" if area.level in ("province", "city", "county") else "village",
                                    width=760, height=460, **shape)
    if spec is None:
        deck.box(s, 0.5, 2.0, WIDTH_IN - 1.0, 2.0, ["本范围内没有行政村的边界或位置数据,无法绘制地图。"], BODY_PT)
    else:
        png = charts.to_png(spec)
        deck.picture(s, png, 0.3, 1.4, 8.8, 5.95)
        poor = int(geo["is_poor_village"].fillna(False).astype(bool).sum())
        lines = [f"共 {fmt.count(len(geo))}个行政村"]
        if poor:
            lines.append(f"蓝色边框为贫困村({fmt.count(poor)}个)")
        if scope.level == "village":
            lines.append(f"黑色粗线为{name}")
        lines.append([("风险未消除监测户:年末仍在监测帮扶中的监测对象;分位数分级,颜色越深越需关注。" if era else
                        "贫困发生率 = 年末贫困人口(未脱贫 + 返贫)÷ 农村户籍人口;分位数分级,颜色越深越需关注。",
                       SMALL_PT, False, GREY)])
        deck.box(s, 9.3, 1.8, 3.6, 5.4, lines, BODY_PT, space_after=10)

    return deck.save()
