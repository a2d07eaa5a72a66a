"""The script the app runs in the browser (components/shell/client.py) survives the frontend's sanitiser:
no "<" but its own script tags, and every Streamlit phrase the browser test looks for has a translation."""

import pytest

from components import first_paint
from components.shell import client
from tests.browser.harness import STREAMLIT_ENGLISH
from tests.helpers import ROOT


@pytest.mark.parametrize("script", [client.SCRIPT, first_paint.CONTINUE_JS], ids=["client", "first_paint"])
def test_script_has_no_markup_inside(script):
    body = script.removeprefix("<script>").removesuffix("</script>")
    assert script.startswith("<script>") and script.endswith("</script>")
    assert "<" not in body


def test_every_phrase_checked_on_screen_is_translated():
    import re

    patterns = [re.compile(p) for p, _ in client.ZH_PATTERNS]
    keys = " | ".join(client.ZH) + " | " + " | ".join(p.pattern for p in patterns)
    missing = [w for w in STREAMLIT_ENGLISH if w not in keys and not w.startswith("Ask ")]
    assert missing == []
    assert all(re.search(r"[\u4e00-\u9fff]", zh) for zh in client.ZH.values())


def test_an_error_box_is_chinese_and_links_nowhere():
    """A script error shows Streamlit's redacted notice (showErrorDetails = none): its exact text is translated, and
    the Copy / Ask Google / Ask ChatGPT links (English, and out of the intranet) are switched off."""
    import re
    import tomllib

    from streamlit.elements.exception import _GENERIC_UNCAUGHT_EXCEPTION_TEXT as notice

    zh = [z for p, z in client.ZH_PATTERNS if re.fullmatch(p, notice)]
    assert zh and re.search(r"[\u4e00-\u9fff]", zh[0])
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorLinks"] == "false" and config["client"]["showErrorDetails"] == "none"
