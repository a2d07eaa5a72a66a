"""One definition per headline figure (issue 18): the README's 指标口径 list and the pages' help texts say the same
words, both from ``data_access.definitions.HEADLINES``."""

from __future__ import annotations

import re

from data_access.definitions import HEADLINES
from tests.helpers import ROOT, open_page


def readme_definitions() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## 指标口径", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^- \*\*(.+?)\*\*:(.+)$", section, re.M))


def test_the_readme_says_each_definition_in_the_same_words():
    assert readme_definitions() == HEADLINES


def helps(at) -> dict[str, str]:
    return {m.label: (m.help or "") for m in at.metric}


# page -> {metric label: the definition its help text must contain}; the overview's campaign headline is read in
# the last campaign year (from 2021 the overview leads with the 巩固衔接 figures of ``report.era``, and 脱贫进度
# shows no 贫困发生率 of the year)
YEARS = {"pages/overview.py": 2020, "pages/exits.py": 2020}
ON_PAGES = {
    "pages/overview.py": {"建档立卡户数(户)": "建档立卡户数", "建档立卡人数(人)": "建档立卡人数",
                          "已脱贫户数(户)": "已脱贫", "已脱贫人数(人)": "已脱贫",
                          "未脱贫户数(户)": "未脱贫", "返贫户数(户)": "返贫", "贫困发生率(%)": "贫困发生率",
                          "已出列贫困村(个)": "已出列贫困村", "拨付率(%,占下达)": "拨付率",
                          "支出进度(%,占下达)": "支出进度", "监测对象(户)": "监测对象", "风险消除率(%)": "风险消除率"},
    "pages/exits.py": {"累计脱贫(户,含其后返贫)": "累计脱贫(含其后返贫)", "贫困发生率(%)": "贫困发生率"},
    "pages/monitoring.py": {"监测对象(户)": "监测对象", "收入预警(户)": "收入对照线"},
    "pages/help.py": {"近90天入户率(%)": "入户率"},
}


def test_every_definition_is_some_pages_help():
    assert {key for wanted in ON_PAGES.values() for key in wanted.values()} == set(HEADLINES)


def test_the_pages_help_texts_say_the_same_words(sqlite_demo_url):
    for page, wanted in ON_PAGES.items():
        at = open_page(sqlite_demo_url, page, year=YEARS.get(page, 2026))
        assert not at.exception, (page, at.exception)
        shown = helps(at)
        for label, key in wanted.items():
            assert HEADLINES[key] in shown[label], (page, label, shown.get(label))
