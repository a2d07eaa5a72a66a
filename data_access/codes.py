"""Code lists of the national registry, with their Chinese labels.

Every coded value stored in the database is one of the labels below (the
registry's own wording), so a query result reads as the leaders' reports do.
Known variant spellings found in exports map to the canonical label in
``SYNONYMS``; use :func:`normalise` when reading outside data.
"""

from __future__ import annotations

import re

REGION_LEVELS = ("province", "city", "county", "town", "village")
REGION_LEVEL_LABELS = {
    "province": "省",
    "city": "市",
    "county": "县(区)",
    "town": "乡镇",
    "village": "行政村",
}
# Significant digits of a 12-digit code at each level.
REGION_LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}

HOUSEHOLD_ATTRIBUTES = ("一般贫困户", "低保贫困户", "特困供养贫困户")
IDENTIFICATION_STANDARDS = ("国家标准", "省定标准", "市定标准")

CAUSES = (
    "因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金",
    "交通条件落后", "自身发展动力不足", "因婚", "因丧", "其他",
)

# 脱贫状态 as stored on a household (current state); the state in a past year
# is derived from identified_year / exit_year / returned_year (see queries.common).
STATUS_NOT_EXITED = "未脱贫"
STATUS_EXITED = "已脱贫"
STATUS_RETURNED = "返贫"
HOUSEHOLD_STATUSES = (STATUS_NOT_EXITED, STATUS_EXITED, STATUS_RETURNED)
# After 2020 exited households are split by whether they still receive policies.
POST2020_POLICY = ("脱贫享受政策", "脱贫不享受政策")

# Household kind: registered poor (建档立卡) or a monitoring-only household
# (边缘易致贫户 / 突发严重困难户 who were never registered).
HOUSEHOLD_KIND_REGISTERED = "建档立卡户"
HOUSEHOLD_KIND_MONITORING = "一般农户"
HOUSEHOLD_KINDS = (HOUSEHOLD_KIND_REGISTERED, HOUSEHOLD_KIND_MONITORING)

HOUSE_GRADES = ("安全", "A", "B", "C", "D")
DANGEROUS_HOUSE_GRADES = ("C", "D")

EXIT_STEPS = ("民主评议", "核实", "户认可", "公示", "公告", "销号")

RELATIONS = (
    "户主", "配偶", "之子", "之女", "之儿媳", "之女婿", "之孙子", "之孙女", "之父", "之母",
    "之兄弟姐妹", "其他",
)
SEXES = ("男", "女")
EDUCATION = ("文盲或半文盲", "小学", "初中", "高中", "大专及以上", "学龄前儿童")
SCHOOLING = (
    "非在校生", "学前教育", "小学", "七年级", "八年级", "九年级",
    "高中一年级", "高中二年级", "高中三年级", "中职一年级", "中职二年级", "中职三年级",
    "高职一年级", "高职二年级", "高职三年级", "大专及以上",
)
HEALTH = ("健康", "长期慢性病", "患有大病", "残疾")
LABOUR_SKILLS = ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")
WORK_STATUS = ("乡(镇)内务工", "乡(镇)外县内务工", "县外省内务工", "省外务工", "未外出务工")
# Compulsory schooling ages (义务教育): a child this age who is 非在校生 fails 义务教育有保障.
COMPULSORY_SCHOOL_AGES = (6, 15)

MONITORING_KINDS = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
MONITORING_RISKS = (
    "因病", "因残", "因学", "因灾", "因意外事故", "因产业项目失败", "因务工就业不稳",
    "缺劳动力", "住房安全问题", "饮水安全问题", "其他",
)

HELP_MEASURES = (
    "产业帮扶", "就业帮扶", "公益岗位", "教育帮扶", "健康帮扶", "危房改造", "易地扶贫搬迁",
    "低保兜底", "特困供养", "扶贫小额信贷", "资产收益分红", "生态护林员", "技能培训",
)
HELP_UNIT_LEVELS = ("中央", "省级", "市级", "县级", "乡镇")
VISIT_KINDS = ("入户走访", "电话联系", "政策宣讲")

FUND_SOURCES = (
    "中央财政专项扶贫资金", "省级财政专项扶贫资金", "市级财政专项扶贫资金", "县级财政专项扶贫资金",
    "统筹整合财政涉农资金", "东西部扶贫协作资金", "定点帮扶资金", "社会帮扶资金", "金融扶贫资金",
)
PROJECT_CATEGORIES = (
    "产业发展", "就业扶贫", "易地扶贫搬迁", "教育扶贫", "健康扶贫", "危房改造", "农村基础设施",
    "人居环境", "金融扶贫", "公益岗位", "其他",
)
PROJECT_STATUSES = ("计划", "在建", "完工", "验收", "报账")
# Money movements after arrangement: 拨付 (paid to the implementer), 支出 (spent / 报账).
MONEY_PAID = "拨付"
MONEY_SPENT = "支出"
MONEY_KINDS = (MONEY_PAID, MONEY_SPENT)

POVERTY_LINE = "贫困线"
MONITORING_LINE = "监测线"
LINE_KINDS = (POVERTY_LINE, MONITORING_LINE)

ROLES = ("领导", "工作人员", "管理员")

# Known spellings in exports -> canonical label.
SYNONYMS: dict[str, str] = {
    "因病致贫": "因病", "因残致贫": "因残", "因学致贫": "因学", "因灾致贫": "因灾",
    "缺劳动力": "缺劳力", "缺乏劳动力": "缺劳力", "缺资金致贫": "缺资金", "缺乏资金": "缺资金",
    "缺技术致贫": "缺技术", "缺乏技术": "缺技术", "缺土地致贫": "缺土地", "缺水致贫": "缺水",
    "交通落后": "交通条件落后", "自身发展动力不足致贫": "自身发展动力不足", "动力不足": "自身发展动力不足",
    "五保贫困户": "特困供养贫困户", "五保户": "特困供养贫困户", "低保户": "低保贫困户", "一般户": "一般贫困户",
}


def normalise(value: str, allowed: tuple[str, ...]) -> str | None:
    """Return the canonical label for ``value`` within ``allowed``, or None."""
    text = (value or "").strip().replace(" ", "").replace("\u3000", "")
    if text in allowed:
        return text
    mapped = SYNONYMS.get(text)
    return mapped if mapped in allowed else None


# ---- numbers written in links and settings ------------------------------------------------------------
# Only ASCII digits make a number: str.isdigit(), int(), float() and the regex \d also take '²', '①', '５'
# or '٣' (some of which int() then refuses), '1_000', 'inf' and '1e9'.
_WHOLE = re.compile(r"[0-9]{1,15}")
_DECIMAL = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")


def ascii_whole(text, low: int | None = None, high: int | None = None) -> int | None:
    """``text`` as a whole number of ASCII digits only (no sign, space, exponent or '_'), within
    ``low``–``high`` when given; else None."""
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        return None
    number = int(text)
    if (low is not None and number < low) or (high is not None and number > high):
        return None
    return number


def ascii_number(text) -> float | None:
    """``text`` as a decimal number of ASCII digits (optional leading '-', optional fraction); else None."""
    if not isinstance(text, str) or not _DECIMAL.fullmatch(text):
        return None
    return float(text)
