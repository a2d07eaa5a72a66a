"""A fresh browser's first screen (components.first_paint): the session's first run of the overview ends at the
headline, the browser presses on by itself once a figure is painted, and the second run brings the whole page;
a later run (another region) is one run again."""

from __future__ import annotations

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from .harness import app_errors, expect, open_app, wait_for_rerun

COUNTY = "523199000000"
CONTINUE = "button:加载图表与明细"


def messages(page) -> list[ForwardMsg]:
    got: list[ForwardMsg] = []

    def on_ws(ws):
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framereceived", lambda payload: None if isinstance(payload, str)
                  else got.append(ForwardMsg.FromString(payload)))
    page.on("websocket", on_ws)
    return got


def runs(got: list[ForwardMsg]) -> list[list[str]]:
    """The element kinds each script run sent, run by run."""
    out: list[list[str]] = [[]]
    for msg in got:
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            name = element.WhichOneof("type")
            out[-1].append(f"button:{element.button.label}" if name == "button" else name)
        elif kind == "script_finished":
            out.append([])
    return [r for r in out if r]


def test_the_headline_is_sent_first_then_the_whole_page(page, base_url):
    got = messages(page)
    open_app(page, base_url, "overview", region=COUNTY, year=2026)  # waits until the continue button is gone
    first, second = runs(got)[:2]
    assert "metric" in first and "vega_lite_chart" not in first and "dataframe" not in first, first
    assert CONTINUE in first  # pressed by the page's own script once a figure is painted
    assert "vega_lite_chart" in second and second.count("metric") >= first.count("metric")
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_attached()
    expect(page.get_by_text("加载图表与明细")).to_have_count(0)
    assert app_errors(page) == []

    # the same session's next run (presentation mode switched on in the sidebar) is one run, no button
    got.clear()
    wait_for_rerun(page, page.locator("[data-testid='stSidebar']").get_by_text("汇报模式(投影)").click)
    later = runs(got)
    assert len(later) == 1 and CONTINUE not in later[0], later  # the 2026 projector screen: tiles, not metrics
