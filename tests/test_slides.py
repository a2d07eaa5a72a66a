"""会议材料: the meeting slides (data_access.report.slides).

The .pptx opens with python-pptx, is 16:9, has the named slides, its text holds the key figures
(the page's query values), each chart slide with data has a picture, type is large, and the
paragraph is the speaker notes. A render test converts the deck to one PNG per slide with
LibreOffice headless and pdftoppm into artifacts/slides/ (under CI=true a missing soffice fails).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from data_access.report import era as era_words
from data_access.report import brief, charts, slides
from data_access.report.money import headline_unit
from data_access.queries import funds, monitoring, overview
from data_access.scope import Scope
from tests.helpers import COUNTY_CODE, ROOT, era_by_sql, hround, pick_scopes, skip_or_fail

YEAR = 2026
ARTIFACTS = ROOT / "artifacts" / "slides"


def open_deck(data: bytes):
    from pptx import Presentation

    return Presentation(io.BytesIO(data))


def by_name(prs) -> dict:
    return {s.name: s for s in prs.slides}


def slide_text(slide) -> str:
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
    return "\n".join(parts)


def pictures(slide) -> int:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    return sum(1 for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE)


@pytest.fixture(scope="module")
def sqlite_engine(sqlite_demo_url):
    from data_access.db import get_engine

    return get_engine(sqlite_demo_url)


@pytest.fixture(scope="module")
def decks(sqlite_engine):
    """scope kind -> (code, pptx bytes) at the as-of year on the SQLite demo database."""
    scopes = pick_scopes(sqlite_engine)
    return {k: (code, slides.build_pptx(sqlite_engine, Scope.of(code), YEAR, 2014)) for k, code in scopes.items()}


def deck_texts(data: bytes) -> list[str]:
    return [slide_text(s) + "\n" + s.notes_slide.notes_text_frame.text for s in open_deck(data).slides]


def test_same_deck_on_both_backends(registry_engine, decks):
    """The county deck built on PostgreSQL (and SQLite) says what the SQLite deck says, picture for picture."""
    data = slides.build_pptx(registry_engine, Scope.of(COUNTY_CODE), YEAR, 2014)
    assert deck_texts(data) == deck_texts(decks["county"][1])
    assert [pictures(s) for s in open_deck(data).slides] == [pictures(s) for s in open_deck(decks["county"][1]).slides]


@pytest.mark.parametrize("which", ["county", "town", "village"])
def test_deck_has_named_slides_figures_and_charts(sqlite_engine, decks, which):
    registry_engine = sqlite_engine
    code, data = decks[which]
    scope = Scope.of(code)
    prs = open_deck(data)
    assert abs(prs.slide_width / prs.slide_height - 16 / 9) < 0.01
    assert [s.name for s in prs.slides] == list(slides.SLIDE_NAMES)
    named = by_name(prs)
    for _name, s in named.items():  # the title placeholder carries a title too
        assert s.shapes.title is not None and s.shapes.title.text_frame.text.strip()

    facts = brief.brief_facts(registry_engine, scope, YEAR, 2014)
    paragraph = brief.brief_paragraph(facts)
    assert named["封面"].notes_slide.notes_text_frame.text == paragraph
    assert named["主要指标"].notes_slide.notes_text_frame.text == paragraph
    cover = slide_text(named["封面"])
    assert facts["region_name"] in named["封面"].shapes.title.text_frame.text and str(YEAR) in cover
    assert "数据截至 2026-10-31" in cover and "演示数据" in cover

    head = overview.headline(registry_engine, scope, YEAR)
    figures = slide_text(named["主要指标"])
    # 2026 is after 2020: the era's cards (report.era.slide_figures), no 贫困发生率
    era = era_words.headline(registry_engine, scope, YEAR)
    policy = era["policy"]
    assert f"{policy['exited_persons']:,}人" in figures and f"{policy['exited_households']:,}户" in figures
    assert f"{policy['policy_persons']:,}人" in figures and f"{policy['no_policy_persons']:,}人" in figures
    assert "贫困发生率" not in figures
    want = era_by_sql(sqlite_engine, scope.prefix, YEAR)  # every card of the slide against raw SQL
    cards = [f"{want['exited'][1]:,}人", f"{want['exited'][0]:,}户", f"{want['policy'][1]:,}人",
             f"{want['policy'][0]:,}户", f"{want['no_policy'][1]:,}人", f"{want['no_policy'][0]:,}户",
             f"{want['monitoring'][0]:,}户", f"{want['monitoring'][1]:,}人 · 本年新识别 {want['new'][0]:,}户",
             f"{want['removed'][0]:,}户", f"风险未消除 {want['at_risk'][0]:,}户",
             f"{want['help'][1]:,}/{want['help'][0]:,}户", f"{want['income_year']}年脱贫户人均纯收入",
             f"{hround(want['income']):,}元"]
    if want["help"][0]:
        cards.append(f"{hround(100.0 * want['help'][1] / want['help'][0], 2):.2f}%")
    if want["growth"] is not None:
        cards.append(f"比上年 {want['growth']:+.2f}%")
    if want["work"] is not None:
        cards.append(f"{want['work'][1]:,}人")
    for card in cards:
        assert card in figures, card
    watch = monitoring.totals(registry_engine, scope, YEAR)
    assert f"{watch['households']:,}户" in figures and f"{watch['removed_households']:,}户" in figures
    money = funds.totals(registry_engine, scope, YEAR)
    base = money["allocated"] if money["base"] == "allocated" else money["arranged"]
    unit = headline_unit(base, money["arranged"], money["paid"], money["spent"])
    if base:
        assert unit.text(base, sep="") in slide_text(named["资金"])
        assert f"{money['spent_rate']:.2f}%" in slide_text(named["资金"])

    exits = slide_text(named["脱贫进度"])
    assert (f"累计脱贫(含其后返贫) {head['ever_exited_households']:,}户{head['ever_exited_persons']:,}人" in exits)
    assert f"已脱贫 {head['exited_households']:,}户{head['exited_persons']:,}人" in exits
    top = facts["causes"][0]
    assert f"{top['cause']} {top['households']:,}户" in slide_text(named["致贫原因"])
    assert f"{watch['households']:,}户{watch['persons']:,}人" in slide_text(named["防返贫监测"])

    for name in slides.CHART_SLIDES:
        has_data = not (name == "资金" and not (base or money["paid"] or money["spent"]))
        assert pictures(named[name]) == (1 if has_data else 0), name
    assert pictures(named["封面"]) == pictures(named["主要指标"]) == 0


def test_type_is_large(decks):
    from pptx.util import Pt

    prs = open_deck(decks["county"][1])
    for s in prs.slides:
        for run in (r for p in s.shapes.title.text_frame.paragraphs for r in p.runs):
            assert run.font.size >= Pt(32), s.name
        for shape in s.shapes:
            if shape.has_text_frame:
                for p in shape.text_frame.paragraphs:
                    for run in p.runs:
                        assert run.font.size is not None and run.font.size >= Pt(20), (s.name, run.text)


def test_absent_data_slides_say_so(sqlite_engine):
    registry_engine = sqlite_engine
    data = slides.build_pptx(registry_engine, Scope.of(COUNTY_CODE), 2019, 2014)
    named = by_name(open_deck(data))
    assert "2019年尚无监测对象" in slide_text(named["防返贫监测"])
    assert pictures(named["防返贫监测"]) == 0
    assert "防返贫监测对象" not in slide_text(named["主要指标"])
    assert named["封面"].notes_slide.notes_text_frame.text == brief.brief_paragraph(
        brief.brief_facts(registry_engine, Scope.of(COUNTY_CODE), 2019, 2014))


def test_chart_specs_use_the_palette_and_render():
    import pandas as pd

    from data_access.queries import causes

    mix = pd.DataFrame({"cause": ["因病", "缺资金"], "households": [3, 1], "persons": [9, 2],
                        "households_pct": [75.0, 25.0], "persons_pct": [81.82, 18.18]})
    spec = charts.causes_spec(mix)
    assert spec["config"]["range"]["category"][:3] == ["#0072B2", "#E69F00", "#009E73"]
    assert spec["config"]["axis"]["labelFontSize"] >= 20
    png = charts.to_png(spec)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert causes.NO_CAUSE  # the module the slide reads


def test_quantile_classes():
    breaks, colors, labels = charts.classes([0.0, 0.0, 1.0, 2.0, 3.0, 4.0], 5)
    assert breaks[0] == 0.0 and breaks[-1] == 4.0 and len(colors) == len(labels) == len(breaks) - 1
    assert charts.class_of(0.0, breaks) == 0 and charts.class_of(4.0, breaks) == len(labels) - 1
    assert charts.class_of(None, breaks) is None
    assert charts.classes([], 5) == ([], [], [])


# ---- the render: LibreOffice headless, one PNG per slide ----------------------------------------


def render(decks: dict[str, bytes], out_dir: Path, work: Path) -> dict[str, list[Path]]:
    """Each deck (stem -> .pptx bytes) to PDF with one LibreOffice run, then one PNG per page."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if not soffice:
        skip_or_fail("幻灯片渲染测试不可用: 没有 soffice(apt-get install libreoffice-impress-nogui)")
    if not pdftoppm:
        skip_or_fail("幻灯片渲染测试不可用: 没有 pdftoppm(apt-get install poppler-utils)")
    sources = []
    for stem, data in decks.items():
        src = work / f"{stem}.pptx"
        src.write_bytes(data)
        sources.append(str(src))
    profile = work / "lo-profile"  # a private profile: no clash with another soffice running
    subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(work), *sources], check=True, capture_output=True, timeout=300)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for stem in decks:
        pdf = work / f"{stem}.pdf"
        assert pdf.exists(), f"LibreOffice did not write {pdf.name}"
        for old in out_dir.glob(f"{stem}-*.png"):
            old.unlink()
        subprocess.run([pdftoppm, "-r", "96", "-png", str(pdf), str(out_dir / stem)], check=True,
                       capture_output=True, timeout=120)
        out[stem] = sorted(out_dir.glob(f"{stem}-*.png"))
    return out


def test_render_each_slide_to_png(decks, tmp_path):
    from PIL import Image

    rendered = render({which: decks[which][1] for which in ("county", "village")}, ARTIFACTS, tmp_path)
    for which, pngs in rendered.items():
        assert len(pngs) == len(slides.SLIDE_NAMES), which
        for png in pngs:
            with Image.open(png) as im:
                assert im.size == (1280, 720)
                colours = im.convert("RGB").getcolors(maxcolors=1 << 16)
                assert colours is None or len(colours) > 50, png.name  # not a blank page
