"""A fresh browser's first screen: the headline first, everything below it once the headline is painted.

A browser that has not yet loaded the chart and table code shows nothing of a page until every element's code
has arrived and run (the page's figures wait for Vega and the data grid: 2–4 s here). So on a session's first
run a page ends its run right after its headline figures (``headline_shown``), with a small script that, once
a figure is on screen, presses the page's 加载图表与明细 button: the second run sends the whole page. Only a
browser gets this (a request with a browser's User-Agent); a session without one (a test, a websocket client)
is sent the whole page at once, as it is on every later run.
"""

from __future__ import annotations

import streamlit as st

from components.shell import client

_RUNS = "_page_runs"
CONTINUE_KEY = "first-paint-continue"

# Presses the button once it and a figure are on screen (two animation frames later), or 5 s on without a figure.
# No "<" in it: the frontend's sanitiser may cut a script at one (tests/test_client_script.py).
CONTINUE_JS = """<script>
(function () {
  var waited = 0;
  function press() {
    var button = document.querySelector(".st-key-first-paint-continue button");
    var painted = document.querySelector("[data-testid='stMetricValue'], .era-value");  // a metric or a tile
    if (button && (painted || waited >= 5000)) {
      requestAnimationFrame(function () { requestAnimationFrame(function () { button.click(); }); });
      return;
    }
    waited += 50;
    if (waited >= 30000) { return; }
    setTimeout(press, 50);
  }
  press();
})();
</script>"""


def count_run() -> None:
    """app.py, just before the page runs: one more run of this session's pages."""
    st.session_state[_RUNS] = st.session_state.get(_RUNS, 0) + 1


def _in_a_browser() -> bool:
    return "Mozilla/" in (st.context.headers.get("User-Agent") or "")


def headline_shown() -> None:
    """Right after a page's headline: on a browser session's first run, end the run here (see the module)."""
    if st.session_state.get(_RUNS, 0) != 1 or not _in_a_browser():
        return
    st.session_state[_RUNS] += 1  # the button's rerun is not a first run
    st.button("加载图表与明细", key=CONTINUE_KEY, type="tertiary")
    client.run_script(CONTINUE_JS)
    st.stop()
