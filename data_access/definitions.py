"""The words of each headline figure: its label and its one-line definition, written once (issue 18).

The pages' help texts and the README's 指标口径 list use these strings (tests/test_readme_definitions.py checks
that the README says the same words), so a figure is defined the same way wherever it is read. The rules
themselves are SQL in ``data_access.rules``; this module only holds the words. No streamlit, no database.
"""

from __future__ import annotations

import datetime as dt

def as_of_date(value) -> dt.date | None:
    """The data's as-of date from the meta text (``data_as_of``) or a date; None when missing or bad."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def year_end_words(year: int, as_of) -> str:
    """How a caption names the moment a year's figures stand at: "2025年底", or "2026年10月31日" when the data
    stop before that year's end (a figure "at the end of 2026" read on 31 October is the state on that day;
    saying 年底 would claim two months not yet in the data)."""
    day = as_of_date(as_of)
    if day is not None and day < dt.date(year, 12, 31):
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{year}年底"


BASE_WORDS = {"allocated": "下达", "arranged": "安排"}


def base_word(base: str) -> str:
    """'allocated' -> 下达, 'arranged' -> 安排 (the base 拨付率 and 支出进度 are measured against)."""
    return BASE_WORDS.get(base, base)


def funds_rate_label(kind: str, base: str) -> str:
    """The label of 拨付率 / 支出进度 with its base named, as the project page writes it: 拨付率(%,占下达),
    支出进度(%,占安排). The county measures against 下达, a township or village against 安排 (it receives no
    下达), so the figures of two levels are only comparable when the labels say the same base."""
    return f"{kind}(%,占{base_word(base)})"


def funds_rate_words(kind: str, base: str) -> str:
    """The same in running text: 拨付率(占下达)."""
    return f"{kind}(占{base_word(base)})"


# label -> one-line definition. The README lists each as "- **label**:definition" (same words).
HEADLINES: dict[str, str] = {
    "建档立卡户数": "截至所选年度年底已识别(识别年度不晚于该年)的建档立卡贫困户,含其后已脱贫和返贫的户。",
    "建档立卡人数": "建档立卡户在所选年度年底的家庭成员:当时已出生、已入户且尚未减员(死亡、迁出、婚嫁等)的人;"
                    "数据所在年度为现有成员。",
    "已脱贫": "截至年底已脱贫且到年底未返贫的建档立卡户(人数为这些户当年年底的家庭成员)。",
    "累计脱贫(含其后返贫)": "脱贫年度不晚于所选年度的建档立卡户,含其后又返贫的户。",
    "未脱贫": "截至年底已识别、尚未脱贫的建档立卡户(不含返贫户)。",
    "返贫": "返贫年度不晚于所选年度的建档立卡户。",
    "贫困发生率": "年末贫困人口(未脱贫 + 返贫户当年年底的家庭成员)÷ 当年农村户籍人口 × 100%;"
                  "某村没有当年的农村户籍人口时用此前最近一年的数字,此前也没有时用不分年度的数字。",
    "已出列贫困村": "出列年度不晚于所选年度的贫困村。",
    "拨付率": "已拨付 ÷ 基数 × 100%;县级以下达为基数,乡镇、村以安排到本级项目的资金为基数,标签注明基数。",
    "支出进度": "已支出 ÷ 基数 × 100%;基数同拨付率,标签注明基数。",
    "监测对象": "截至年底识别的防返贫监测对象(含已消除风险的)。",
    "风险消除率": "已消除风险的监测对象户数 ÷ 监测对象户数 × 100%。",
    "入户率": "统计周期内有入户走访的结对帮扶户 ÷ 周期末结对帮扶户 × 100%;标签注明周期(近12个月、近90天或某年)。",
    "收入对照线": "每户的年人均纯收入对照其所属年度的标准线:2020年及以前为贫困线,2021年起为监测线。",
}


def definition(label: str) -> str:
    """The one-line definition of a headline figure (KeyError for an unknown label)."""
    return HEADLINES[label]
