"""Open a page of the real app (app.py: sign-in, filters, navigation) in AppTest."""

from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def open_page(db_url: str, page: str | None = None, timeout: float = 120, **query) -> AppTest:
    """Run app.py against ``db_url`` with ``query`` in the URL, on page ``page`` (e.g. "pages/causes.py").

    Returns the AppTest after the run; check ``at.exception`` and read elements.
    """
    os.environ["REGISTRY_DB_URL"] = db_url
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update({k: str(v) for k, v in query.items() if v is not None})
    at.run()
    if page and page != "pages/overview.py" and not at.exception:
        at.switch_page(page)  # st.navigation registers pages on the first run
        at.run()
    return at


def metrics(at: AppTest) -> dict[str, str]:
    """Every st.metric on the page, label -> displayed value."""
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> str:
    """All markdown, caption and html text of the page, joined (for figure checks)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [getattr(h, "body", "") or "" for h in at.get("html")]
    return "\n".join(str(p) for p in parts)
