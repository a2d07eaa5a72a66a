"""Presentation mode sized from the window (issue 20): every main page and the three dossiers (村档案, 户档案,
项目档案), at 1280×720, 1920×1080 and 3840×2160, fit one screen (no scroll, the sidebar hidden, body text at
least 20 px at 1280×720) and fill at least 85 % of its height; chart text is at least 1/40 of the window height
and near-black, no two chart labels overlap, no chart is drawn wider than its place, no text overflows its box,
none of Streamlit's English shows and no request leaves the app's origin. Screenshots:
artifacts/screenshots/present-<page>-1280x720.png and artifacts/screenshots/present-1920x1080/.

Cheap by design (one of the suite's slowest files otherwise): one page load per view, at 1280×720 (the
smallest projector); the window is then resized to the other two sizes (as when the laptop's window is moved
to the projector), and all checks of one size are measured by one ``page.evaluate``."""

from __future__ import annotations

import pytest

from components import figures
from components.shell import nav
from components.charts.ranking import PRESENT_RANK_ROWS
from tests.county_shapes import many_counties, many_townships
from tests.helpers import COUNTY_CODE

from .harness import SCREEN_TEXT_JS, SCREENSHOT_DIR, app_errors, assert_same_origin, english_in, open_app, screenshot

MAIN_PAGES = [p.key for p in nav.available(is_admin=True) if p.visible and not p.admin_only]
DOSSIERS = ["village", "household", "project"]
FIRST = (1280, 720)
RESIZED = [(1920, 1080), (3840, 2160)]

MEASURE = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const block = document.querySelector('[data-testid="stMainBlockContainer"]');
    let bottom = 0;
    for (const el of block.querySelectorAll('[data-testid="stElementContainer"]')) {
        const r = el.getBoundingClientRect();
        if (r.height > 0 && getComputedStyle(el).visibility !== 'hidden') bottom = Math.max(bottom, r.bottom);
    }
    // Chart text: Vega's and ECharts' SVG text, with its box and size on screen. The element container
    // (not the chart's own frame, which reports its size unzoomed for Streamlit: components/shell/client.py)
    // is the chart's place on screen.
    const charts = [...block.querySelectorAll('[data-testid="stVegaLiteChart"], [data-testid="stEChartsChart"]')];
    const place = (c) => c.closest('[data-testid="stElementContainer"]').getBoundingClientRect();
    const texts = [];
    const wide = [];
    charts.forEach((c, i) => {
        const box = place(c);
        for (const svg of c.querySelectorAll('svg')) {
            const s = svg.getBoundingClientRect();
            if (s.width > box.width + 2) wide.push([i, Math.round(s.width), Math.round(box.width)]);
        }
        for (const t of c.querySelectorAll('svg text')) {
            if (!t.textContent.trim() || t.closest('[aria-hidden="true"][role="tooltip"]')) continue;
            const r = t.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) continue;
            const cs = getComputedStyle(t);  // a label the axis dropped (labelOverlap) stays, transparent
            if (+cs.opacity === 0 || +cs.fillOpacity === 0 || t.getAttribute('opacity') === '0') continue;
            if (r.left >= box.right || r.top >= box.bottom || r.right <= box.left) continue;  // clipped away
            texts.push({text: t.textContent.trim(), x: r.left, y: r.top, w: r.width, h: r.height,
                        fill: cs.fill, chart: i});
        }
    });
    const overflowing = [];
    const boxes = '[data-testid="stMetricValue"], [data-testid="stMetricLabel"], h1, h2, h3, h4, p, ' +
                  '.era-value, .era-label, .era-note';
    for (const el of block.querySelectorAll(boxes)) {
        if (el.scrollWidth > el.clientWidth + 2 && getComputedStyle(el).overflow !== 'visible')
            overflowing.push(el.textContent.trim().slice(0, 40));
        else if (el.matches('.era-value') && el.scrollWidth > el.clientWidth + 2)
            overflowing.push(el.textContent.trim().slice(0, 40));  // a tile's figure runs past its tile
    }
    for (const el of block.querySelectorAll('div, span, p, label')) {  // cut with "…" (st.metric's labels)
        if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).textOverflow === 'ellipsis'
            && !overflowing.includes(el.textContent.trim().slice(0, 40)))
            overflowing.push(el.textContent.trim().slice(0, 40));
    }
    const doc = document.scrollingElement;
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const body = document.querySelector('[data-testid="stMarkdownContainer"] p') || document.body;
    return {scroll: Math.max(main.scrollHeight - main.clientHeight, doc.scrollHeight - doc.clientHeight),
            bottom, texts, wide, overflowing,
            sidebar: !!sidebar && sidebar.getAttribute('aria-expanded') !== 'false'
                     && getComputedStyle(sidebar).display !== 'none',
            body: parseFloat(getComputedStyle(body).fontSize),
            zoom: getComputedStyle(document.documentElement).getPropertyValue('--present-zoom'),
            screen: (""" + SCREEN_TEXT_JS + """)()};
}"""


DRAWN = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].every(c => {
    const svg = c.querySelector('svg, canvas');
    return svg && svg.getBoundingClientRect().width
        <= c.closest('[data-testid="stElementContainer"]').getBoundingClientRect().width + 2;
})"""


def dark(fill: str) -> bool:
    """rgb(r, g, b) no lighter than #555 (near-black or a strong colour on a label drawn in a bar...)."""
    parts = [float(v) for v in fill.replace("rgb(", "").replace("rgba(", "").rstrip(")").split(",")[:3]]
    return max(parts) <= 0x55 or fill in ("rgb(255, 255, 255)",)  # white text sits on a dark bar


def overlaps(texts: list[dict]) -> list[tuple[str, str]]:
    found = []
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if a["chart"] != b["chart"]:
                continue
            if a["text"] == b["text"] and abs(a["x"] - b["x"]) < 2 and abs(a["y"] - b["y"]) < 2:
                continue  # a name and its white halo (drawn twice on purpose)
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if dx > 1 and dy > 0.25 * min(a["h"], b["h"]):  # glyph boxes carry some leading
                found.append((a["text"], b["text"]))
    return found


@pytest.fixture(scope="module")
def dossier_query(sqlite_demo_url, sql) -> dict[str, dict]:
    """The URL of each dossier, on its busiest subject (the most households, income years, money rows)."""
    q = sql(sqlite_demo_url)
    village = q.scalar("SELECT village_code FROM household GROUP BY village_code "
                       "ORDER BY count(*) DESC, village_code LIMIT 1")
    hh = q.scalar("SELECT h.hh_id FROM household h JOIN monitoring_object m ON m.hh_id = h.hh_id "
                  "ORDER BY (SELECT count(*) FROM income i WHERE i.hh_id = h.hh_id) DESC, h.hh_id LIMIT 1")
    project = q.scalar("SELECT project_id FROM money_flow GROUP BY project_id "
                       "ORDER BY count(*) DESC, project_id LIMIT 1")
    return {"village": {"region": village}, "household": {"hh": hh}, "project": {"project": project}}


def check(page, key: str, width: int, height: int, shot) -> None:
    m = page.evaluate(MEASURE)
    where = f"{key} at {width}×{height} ({shot})"
    assert abs(float(m["zoom"]) - min(width / 1280, height / 720)) < 1e-6, f"{where}: zoom {m['zoom']}"
    assert m["scroll"] <= 2, f"{where} scrolls by {m['scroll']} px"
    assert not m["sidebar"], f"{where}: presentation mode must hide the sidebar"
    if (width, height) == (1280, 720):
        assert m["body"] >= 20, f"{where}: body text {m['body']} px < 20 px"
    assert m["bottom"] >= 0.85 * height, f"{where}: content ends at {m['bottom']:.0f} of {height} px"
    assert m["overflowing"] == [], f"{where}: text cut off: {m['overflowing']}"
    assert m["wide"] == [], f"{where}: chart wider than its place (chart, drawn, place): {m['wide']}"
    small = [t["text"] for t in m["texts"] if t["h"] < height / 40 * 0.95]
    assert small == [], f"{where}: chart text under 1/40 of {height} px: {small[:8]}"
    pale = [(t["text"], t["fill"]) for t in m["texts"] if not dark(t["fill"])]
    assert pale == [], f"{where}: chart text not near-black: {pale[:8]}"
    assert overlaps(m["texts"]) == [], f"{where}: chart labels overlap: {overlaps(m['texts'])[:4]}"
    assert english_in(m["screen"]) == [], f"{where}: English on screen: {english_in(m['screen'])}"


def resize(page, width: int, height: int) -> None:
    """The window resized: the zoom follows (components/shell/client.py), then one painted frame."""
    page.set_viewport_size({"width": width, "height": height})
    zoom = min(width / 1280, height / 720)
    page.wait_for_function(
        f"() => Math.abs(parseFloat(getComputedStyle(document.documentElement)"
        f".getPropertyValue('--present-zoom')) - {zoom}) < 1e-6")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def open_present(page, base_url: str, key: str, **query) -> None:
    """``key`` in presentation mode at 1280×720, its charts drawn at their places' widths (charts drawn before
    the zoom fix measure again), with no error on the page (includes "Page not found")."""
    width, height = FIRST
    open_app(page, base_url, key, viewport={"width": width, "height": height}, mode="present", **query)
    try:
        page.wait_for_function(DRAWN, timeout=10_000)
    except Exception:  # noqa: BLE001 - the checks that follow say what is wrong
        pass
    assert not app_errors(page), app_errors(page)


@pytest.mark.parametrize("key", MAIN_PAGES + DOSSIERS)
def test_presentation_mode_fills_the_window(page, base_url, key, dossier_query, requests_log):
    width, height = FIRST
    query = dossier_query.get(key, {"region": COUNTY_CODE})
    open_present(page, base_url, key, **query)
    check(page, key, width, height, screenshot(page, f"present-{key}-1280x720"))
    shot = SCREENSHOT_DIR / "present-1920x1080" / f"present-{key}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    for width, height in RESIZED:
        resize(page, width, height)
        if width == 1920:
            page.screenshot(path=str(shot), animations="disabled")
        check(page, key, width, height, shot)
    assert_same_origin(requests_log, base_url)


def served_demo(tmp_path_factory, start_app, name: str, build) -> tuple[str, str]:
    """(database URL, app URL) of a demo variant ``build(url)`` makes, served by its own app."""
    url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'registry.db'}"
    build(url)
    return url, start_app({"REGISTRY_DB_URL": url}, name=name).base_url


def each_size(page):
    """1280×720 as opened, then the window grown to each of RESIZED: yields (width, height)."""
    yield FIRST
    for width, height in RESIZED:
        resize(page, width, height)
        yield width, height


@pytest.fixture(scope="module")
def eight_townships(tmp_path_factory, start_app) -> tuple[str, str]:
    """A county of 8 townships (6 of them with 监测对象): the projector's charts have six bars to show."""
    return served_demo(tmp_path_factory, start_app, "eight-townships", lambda url: many_townships(url, towns=8))


SIX_BARS = {"monitoring": "仍有风险最多的地区", "help": "入户率最低的地区"}


@pytest.mark.parametrize("key", sorted(SIX_BARS))
def test_six_regions_fit_the_projector(page, eight_townships, key, sql, requests_log):
    """A county's six townships in the projector's bar chart: all six names drawn, none touching another, the
    screen unscrolled, at 1280×720 and when the window grows (the small demo's three townships hid the overlap
    the province showed: 6 labels in 90 px)."""
    url, base = eight_townships
    towns = {name for (name,) in sql(url).rows("SELECT name FROM region WHERE level = 'town'")}
    open_present(page, base, key, region=COUNTY_CODE)
    assert page.get_by_text(f"{SIX_BARS[key]}(前 6 个)").count() == 1
    for width, height in each_size(page):
        check(page, key, width, height, screenshot(page, f"present-{key}-six-{width}x{height}"))
        drawn = [t["text"] for t in page.evaluate(MEASURE)["texts"] if t["text"] in towns]
        assert len(set(drawn)) == 6, f"{key} at {width}×{height}: townships drawn {drawn}"
    assert_same_origin(requests_log, base)


@pytest.fixture(scope="module")
def eleven_counties(tmp_path_factory, start_app) -> tuple[str, str]:
    """A province whose two cities have 11 counties each: more than the projector's ranking holds."""
    return served_demo(tmp_path_factory, start_app, "eleven-counties", lambda url: many_counties(url, counties=22))


def test_city_ranking_fits_the_projector(page, eleven_counties, sql, requests_log):
    """村级地图 at a city on the projector ranks its counties: the worst PRESENT_RANK_ROWS of 11 drawn, every name
    shown (the axis had dropped every other one at the province's 8 cities), the rest left to the 数据表 (said
    in the caption), one screen at every size."""
    url, base = eleven_counties
    city = sql(url).scalar("SELECT min(code) FROM region WHERE level = 'city'")
    counties = {name for (name,) in sql(url).rows("SELECT name FROM region WHERE parent_code = :c", c=city)}
    assert len(counties) == 11
    open_present(page, base, "map", region=city)
    assert page.get_by_text(f"图中为前 {PRESENT_RANK_ROWS} 个(共 11 个,见数据表)", exact=False).count() == 1
    for width, height in each_size(page):
        check(page, "map", width, height, screenshot(page, f"present-map-city-{width}x{height}"))
        drawn = {t["text"] for t in page.evaluate(MEASURE)["texts"] if t["text"] in counties}
        assert len(drawn) == PRESENT_RANK_ROWS, f"map at {width}×{height}: counties drawn {sorted(drawn)}"
    assert_same_origin(requests_log, base)


def test_projector_headline_with_a_province_s_figures_stays_on_one_line(page, base_url):
    """The headline (components.figures.headline) sized for its text: the province's figures in the 1280 px
    layout take one line (as an h3 they wrapped, pushing the charts below off the screen)."""
    open_app(page, base_url, "monitoring", viewport={"width": 1280, "height": 720}, mode="present",
             region=COUNTY_CODE)
    province = "监测对象 67,707 户 · 仍有风险 20,310 户 · 消除率 70.00% · 收入预警 63,220 户"
    for text in (page.locator(".present-headline").inner_text(), province):
        box = page.evaluate("""([text, style]) => {
            const el = document.querySelector('.present-headline');
            el.textContent = text;
            el.style.cssText = el.style.cssText.replace(/font-size:[^;]*;?/, '') + style;
            const size = parseFloat(getComputedStyle(el).fontSize);
            return {size, height: el.getBoundingClientRect().height, scroll: el.scrollWidth,
                    width: el.parentElement.clientWidth};
        }""", [text, figures.fitted(text, 1.75)])
        assert box["scroll"] <= box["width"] + 1, f"{text!r}: {box['scroll']} px in {box['width']} px"
        assert box["height"] < 1.6 * box["size"], f"{text!r} wraps: {box}"
        assert box["size"] >= 28, f"{text!r}: {box['size']} px is too small for the wall"
