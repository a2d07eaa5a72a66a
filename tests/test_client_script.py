"""The script the app runs in the browser (components/shell/client.py) survives the frontend's sanitiser:
no "<" but its own script tags, and every Streamlit phrase the browser test looks for has a translation."""

from components.shell import client
from tests.browser.harness import STREAMLIT_ENGLISH


def test_script_has_no_markup_inside():
    body = client.SCRIPT.removeprefix("<script>").removesuffix("</script>")
    assert client.SCRIPT.startswith("<script>") and client.SCRIPT.endswith("</script>")
    assert "<" not in body


def test_every_phrase_checked_on_screen_is_translated():
    import re

    patterns = [re.compile(p) for p, _ in client.ZH_PATTERNS]
    keys = " | ".join(client.ZH) + " | " + " | ".join(p.pattern for p in patterns)
    missing = [w for w in STREAMLIT_ENGLISH if w not in keys]
    assert missing == []
    assert all(re.search(r"[\u4e00-\u9fff]", zh) for zh in client.ZH.values())
