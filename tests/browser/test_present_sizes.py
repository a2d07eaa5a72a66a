"""Presentation mode sized from the window: at 1280×720, 1920×1080 and 3840×2160 every main page fits one
screen (no scroll) and fills at least 85 % of its height, chart text is at least 1/40 of the window height
and near-black, no chart's labels overlap and no text overflows its box. Screenshots at 1920×1080 go to
artifacts/screenshots/present-1920x1080/."""

from __future__ import annotations

import pytest

from components.shell import nav

from .harness import SCREENSHOT_DIR, app_errors, open_app

MAIN_PAGES = [p.key for p in nav.available(is_admin=True) if p.visible and not p.admin_only]
SIZES = [(1280, 720), (1920, 1080), (3840, 2160)]

MEASURE = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const block = document.querySelector('[data-testid="stMainBlockContainer"]');
    let bottom = 0;
    for (const el of block.querySelectorAll('[data-testid="stElementContainer"]')) {
        const r = el.getBoundingClientRect();
        if (r.height > 0 && getComputedStyle(el).visibility !== 'hidden') bottom = Math.max(bottom, r.bottom);
    }
    const texts = [];  // chart text: Vega's SVG text marks, with their box and size on screen
    for (const t of document.querySelectorAll('[data-testid="stVegaLiteChart"] svg text')) {
        if (!t.textContent.trim() || t.closest('[aria-hidden="true"][role="tooltip"]')) continue;
        const r = t.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        const cs = getComputedStyle(t);  // a label the axis dropped (labelOverlap) stays, transparent
        if (+cs.opacity === 0 || +cs.fillOpacity === 0 || t.getAttribute('opacity') === '0') continue;
        const box = t.closest('[data-testid="stVegaLiteChart"]').getBoundingClientRect();
        if (r.left >= box.right || r.top >= box.bottom || r.right <= box.left) continue;  // clipped away
        const fill = getComputedStyle(t).fill;
        texts.push({text: t.textContent.trim(), x: r.left, y: r.top, w: r.width, h: r.height, fill,
                    chart: [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                           .indexOf(t.closest('[data-testid="stVegaLiteChart"]'))});
    }
    const overflowing = [];
    const boxes = '[data-testid="stMetricValue"], [data-testid="stMetricLabel"], h1, h2, h3, h4, p';
    for (const el of block.querySelectorAll(boxes)) {
        if (el.scrollWidth > el.clientWidth + 2 && getComputedStyle(el).overflow !== 'visible')
            overflowing.push(el.textContent.trim().slice(0, 40));
    }
    return {scroll: main.scrollHeight - main.clientHeight, bottom, texts, overflowing};
}"""


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


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", MAIN_PAGES)
def test_presentation_mode_fills_the_window(page, base_url, key, size):
    width, height = size
    open_app(page, base_url, key, viewport={"width": width, "height": height}, mode="present",
             region="523199000000")
    page.wait_for_timeout(300)  # charts size themselves to their container after the first paint
    m = page.evaluate(MEASURE)
    shot = None
    if width == 1920:
        shot = SCREENSHOT_DIR / "present-1920x1080" / f"present-{key}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), animations="disabled")
    assert not app_errors(page), app_errors(page)
    assert m["scroll"] <= 2, f"{key} scrolls by {m['scroll']} px at {width}×{height} ({shot})"
    assert m["bottom"] >= 0.85 * height, f"{key}: content ends at {m['bottom']:.0f} of {height} px ({shot})"
    assert m["overflowing"] == [], f"{key}: text cut off: {m['overflowing']}"
    small = [t["text"] for t in m["texts"] if t["h"] < height / 40 * 0.95]
    assert small == [], f"{key}: chart text under 1/40 of {height} px: {small[:8]}"
    pale = [(t["text"], t["fill"]) for t in m["texts"] if not dark(t["fill"])]
    assert pale == [], f"{key}: chart text not near-black: {pale[:8]}"
    assert overlaps(m["texts"]) == [], f"{key}: chart labels overlap at {width}×{height} ({shot})"
