"""One browser history entry per step the user takes.

Streamlit's frontend pushes a history entry for every change of the URL: for each ``st.query_params`` write
and again for a page switch, so one click that opens another page (``st.switch_page`` with parameters:
first the parameters on the old page's path, then the new path) or that lands on a page which then puts
back its region and year (``filters.restore_missing_params``) leaves two or three entries, and Back seems
to do nothing (or shows a view nobody saw, e.g. 查询 without its filters).

The guard below (installed once per browser tab) lets the first URL change after a user's gesture (a
pointer press, Enter or Space, a changed input) push an entry; every further change until the next
gesture — the app's own syncs, the meeting cycle — replaces the current entry instead. Streamlit itself
already replaces (not pushes) after Back/Forward and for controls bound to the URL.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner import get_script_run_ctx

GUARD_JS = """<script>
(function () {
  const w = window;
  if (w.__oneEntryPerStep) return;
  w.__oneEntryPerStep = true;
  const h = w.history, push = h.pushState.bind(h), replace = h.replaceState.bind(h);
  let mayPush = false;
  const grant = () => { mayPush = true; };
  w.addEventListener('pointerdown', grant, true);
  w.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') grant(); }, true);
  w.addEventListener('change', grant, true);
  w.addEventListener('popstate', () => { mayPush = false; }, true);
  h.pushState = function (state, title, url) {
    if (mayPush) { mayPush = false; return push(state, title, url); }
    return replace(state, title, url);
  };
})();
</script>"""


def install_guard() -> None:
    """Send the guard with every run (the frontend runs it once per tab), outside the page's layout."""
    from streamlit.delta_generator_singletons import get_dg_singleton_instance

    if get_script_run_ctx() is None:  # bare mode (a unit test importing app code): nothing to send to
        return
    get_dg_singleton_instance().event_dg.html(GUARD_JS, unsafe_allow_javascript=True)
