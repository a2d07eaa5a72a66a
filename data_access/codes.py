"""Code lists of the national registry, with their Chinese labels.

Every coded value stored in the database is one of the labels below (the
registry's own wording), so a query result reads as the leaders' reports do.
Known variant spellings found in exports map to the canonical label in
``SYNONYMS``; use :func:`normalise` when reading outside data.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

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
LABOUR_FORCE_SKILLS = LABOUR_SKILLS[:3]  # 劳动力 (with 弱劳动力或半劳动力): their 务工 is counted by year
WORK_STATUS = ("乡(镇)内务工", "乡(镇)外县内务工", "县外省内务工", "省外务工", "未外出务工")
# 减员原因 (why a member left the household): the national system's list, its other spellings in SYNONYMS.
LEAVE_REASONS = ("死亡", "迁出", "婚嫁", "其他")
# Compulsory schooling ages (义务教育): a child this age who is 非在校生 fails 义务教育有保障.
COMPULSORY_SCHOOL_AGES = (6, 15)

# ---- 防返贫动态监测 (2021–): the national lists; a deployment may add its own (see ``CodeList``) ----------
MONITORING_KINDS_NATIONAL = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
# 因自然灾害 and its subtypes as the 全国防返贫监测信息系统 codes them (stored as "因自然灾害·洪涝灾害").
NATURAL_DISASTER = "因自然灾害"
NATURAL_DISASTER_SUBTYPES = ("洪涝灾害", "地质灾害", "干旱灾害", "生物灾害", "气象灾害", "地震灾害", "其他自然灾害")
MONITORING_RISKS_TOP = (
    "因病", "因残", "因学", "因灾", NATURAL_DISASTER, "因意外事故", "因产业项目失败", "因务工就业不稳",
    "缺劳动力", "住房安全问题", "饮水安全问题", "其他",
)
MONITORING_RISKS_NATIONAL = MONITORING_RISKS_TOP + tuple(f"{NATURAL_DISASTER}·{s}" for s in NATURAL_DISASTER_SUBTYPES)
# 脱贫人口 after 2020 (seed 004: 脱贫享受政策 20694户 33902人, 脱贫不享受政策 7008户 14110人).
POLICY_ENJOYING, POLICY_NOT_ENJOYING = POST2020_POLICY
CONSOLIDATION_SINCE = 2021  # 过渡期 2021–2025 and after: 巩固拓展脱贫攻坚成果, 防返贫监测
LAST_CAMPAIGN_YEAR = CONSOLIDATION_SINCE - 1  # 脱贫攻坚's last year: the last 贫困发生率, exits and targets


def risk_parent(label: str) -> str:
    """The top-level risk of a stored label: "因自然灾害·洪涝灾害" -> "因自然灾害"; others unchanged."""
    return label.split("·", 1)[0] if isinstance(label, str) else label


HELP_MEASURES = (
    "产业帮扶", "就业帮扶", "公益岗位", "教育帮扶", "健康帮扶", "危房改造", "易地扶贫搬迁",
    "低保兜底", "特困供养", "扶贫小额信贷", "资产收益分红", "生态护林员", "技能培训",
)
HELP_UNIT_LEVELS = ("中央", "省级", "市级", "县级", "乡镇")
VISIT_KINDS = ("入户走访", "电话联系", "政策宣讲")

# 资金来源 of the campaign (脱贫攻坚, up to 2020): accepted for those years.
FUND_SOURCES_CAMPAIGN = (
    "中央财政专项扶贫资金", "省级财政专项扶贫资金", "市级财政专项扶贫资金", "县级财政专项扶贫资金",
    "统筹整合财政涉农资金", "东西部扶贫协作资金", "定点帮扶资金", "社会帮扶资金", "金融扶贫资金",
)
# From 2021: 财政衔接推进乡村振兴补助资金 (衔接资金) at four levels, beside the others.
LINKAGE_FUNDS = (
    "中央财政衔接推进乡村振兴补助资金", "省级财政衔接推进乡村振兴补助资金",
    "市级财政衔接推进乡村振兴补助资金", "县级财政衔接推进乡村振兴补助资金",
)
LINKAGE_LEVELS = dict(zip(LINKAGE_FUNDS, ("中央", "省级", "市级", "县级")))
CENTRAL_LINKAGE_FUND = LINKAGE_FUNDS[0]
FUND_SOURCES_CONSOLIDATION = LINKAGE_FUNDS + (
    "统筹整合财政涉农资金", "东西部协作资金", "定点帮扶资金", "社会帮扶资金", "地方政府债券",
)
FUND_SOURCES_NATIONAL = FUND_SOURCES_CAMPAIGN + tuple(s for s in FUND_SOURCES_CONSOLIDATION
                                                      if s not in FUND_SOURCES_CAMPAIGN)
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
    # 2021–: monitoring kinds, risks and fund sources as exports write them
    "不稳定户": "脱贫不稳定户", "脱贫不稳定": "脱贫不稳定户", "边缘户": "边缘易致贫户", "边缘易致贫": "边缘易致贫户",
    "严重困难户": "突发严重困难户", "突发严重困难": "突发严重困难户",
    "自然灾害": NATURAL_DISASTER, "因自然灾害致贫": NATURAL_DISASTER,
    **{f"{NATURAL_DISASTER}-{s}": f"{NATURAL_DISASTER}·{s}" for s in NATURAL_DISASTER_SUBTYPES},
    **{f"{NATURAL_DISASTER}({s})": f"{NATURAL_DISASTER}·{s}" for s in NATURAL_DISASTER_SUBTYPES},
    **{f"{NATURAL_DISASTER}({s})": f"{NATURAL_DISASTER}·{s}" for s in NATURAL_DISASTER_SUBTYPES},
    "因产业失败": "因产业项目失败", "因缺劳动力": "缺劳动力", "因务工就业不稳定": "因务工就业不稳",
    "中央衔接资金": "中央财政衔接推进乡村振兴补助资金", "中央财政衔接资金": "中央财政衔接推进乡村振兴补助资金",
    "省级衔接资金": "省级财政衔接推进乡村振兴补助资金", "省级财政衔接资金": "省级财政衔接推进乡村振兴补助资金",
    "市级衔接资金": "市级财政衔接推进乡村振兴补助资金", "市级财政衔接资金": "市级财政衔接推进乡村振兴补助资金",
    "县级衔接资金": "县级财政衔接推进乡村振兴补助资金", "县级财政衔接资金": "县级财政衔接推进乡村振兴补助资金",
    "东西部协作": "东西部协作资金", "地方政府债券资金": "地方政府债券", "政府债券": "地方政府债券",
    "定点帮扶": "定点帮扶资金", "社会帮扶": "社会帮扶资金",
    # 减员原因
    "去世": "死亡", "亡故": "死亡", "病故": "死亡", "自然死亡": "死亡", "户籍迁出": "迁出", "迁移": "迁出",
    "外迁": "迁出", "婚出": "婚嫁", "出嫁": "婚嫁", "婚迁": "婚嫁", "嫁出": "婚嫁", "婚姻": "婚嫁",
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


# ---- code lists a deployment extends (configuration, not code) ------------------------------------------
# A province adds its own categories, e.g. Shandong's 即时帮扶 as a kind of monitoring object (seed 004),
# in one of (read in this order, all of them added up):
#   - the environment: REGISTRY_MONITORING_KINDS, REGISTRY_MONITORING_RISKS, REGISTRY_FUND_SOURCES
#     (labels separated by spaces, commas or 、);
#   - a TOML file named by REGISTRY_CODES_FILE, or the [codes] section of .streamlit/secrets.toml:
#       [codes]
#       monitoring_kinds = ["即时帮扶"]
#       monitoring_risks = []
#       fund_sources = []
# A configured label must be 1–16 characters (the stored column's width) and is added after the national
# list; a national label cannot be removed. Problems are collected in ``config_problems()`` (Chinese).


CONFIG_ENV = {"monitoring_kinds": "REGISTRY_MONITORING_KINDS", "monitoring_risks": "REGISTRY_MONITORING_RISKS",
              "fund_sources": "REGISTRY_FUND_SOURCES"}
CODES_FILE_ENV = "REGISTRY_CODES_FILE"
MAX_LABEL = 16
_SECRETS = Path(__file__).resolve().parent.parent / ".streamlit" / "secrets.toml"
_cache: dict = {}


def _read_toml(path: Path, problems: list[str]) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"代码表配置文件 {path} 不存在,已按全国代码表运行。")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        problems.append(f"代码表配置文件 {path.name} 无法读取({exc}),已按全国代码表运行。")
    return {}


def _file_key(path: Path):
    try:
        return (str(path), path.stat().st_mtime_ns)
    except OSError:
        return (str(path), None)


def deployment_config() -> dict:
    """The deployment's settings of the 2021– era: the [codes] table of REGISTRY_CODES_FILE (or of
    .streamlit/secrets.toml when that variable is unset), plus the environment's labels. Read again
    whenever the environment or the file changes. Keys: monitoring_kinds, monitoring_risks, fund_sources
    (tuples of extra labels), other keys of the table as written, problems (list of Chinese messages)."""
    file_name = os.environ.get(CODES_FILE_ENV, "").strip()
    path = Path(file_name) if file_name else _SECRETS
    key = (tuple(os.environ.get(v, "") for v in CONFIG_ENV.values()), file_name, _file_key(path))
    if _cache.get("key") == key:
        return _cache["value"]
    problems: list[str] = []
    table = {}
    if file_name or path.exists():
        whole = _read_toml(path, problems)
        table = whole.get("codes", whole if file_name else {})
        if not isinstance(table, dict):
            problems.append("代码表配置 [codes] 须为表,已忽略。")
            table = {}
    out = {k: v for k, v in table.items() if k not in CONFIG_ENV}
    for name, env in CONFIG_ENV.items():
        labels: list[str] = []
        raw = table.get(name, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            problems.append(f"代码表配置 {name} 须为标签列表,已忽略。")
            raw = []
        raw = list(raw) + [p for p in re.split(r"[\s,,、;;]+", os.environ.get(env, "")) if p]
        for item in raw:
            text = str(item).strip().replace("\u3000", "")
            if not text or len(text) > MAX_LABEL:
                problems.append(f"代码表配置 {name} 中的“{text[:20]}”为空或超过{MAX_LABEL}个字,已忽略。")
            elif text not in labels:
                labels.append(text)
        out[name] = tuple(labels)
    out["problems"] = problems
    _cache.update(key=key, value=out)
    return out


def config_problems() -> list[str]:
    """What is wrong with the deployment's code configuration (Chinese), or an empty list."""
    return list(deployment_config()["problems"])


class CodeList(Sequence):
    """A national code list plus the labels the deployment adds (``deployment_config``), read live: a
    label configured for a province shows wherever the list is used (filters, breakdowns, the importer's
    check), in the list's order (national first). Behaves as a tuple of str for reading; pass
    ``tuple(the_list)`` to pandas or a streamlit widget (they do not take a Sequence that is not a list)."""

    def __init__(self, national: tuple[str, ...], config_key: str, also_accepted: tuple[str, ...] = ()):
        self.national = tuple(national)
        self.config_key = config_key
        self.also_accepted = tuple(also_accepted)  # valid values not listed (因自然灾害's subtypes)

    @property
    def extra(self) -> tuple[str, ...]:
        return tuple(x for x in deployment_config()[self.config_key] if x not in self.national)

    def labels(self) -> tuple[str, ...]:
        return self.national + self.extra

    def __getitem__(self, i):
        return self.labels()[i]

    def __len__(self) -> int:
        return len(self.labels())

    def __iter__(self):
        return iter(self.labels())

    def __contains__(self, value) -> bool:
        return value in self.national or value in self.also_accepted or value in self.extra

    def __add__(self, other):
        return self.labels() + tuple(other)

    def __radd__(self, other):
        return tuple(other) + self.labels()

    def __eq__(self, other) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, (tuple, list, CodeList)) else NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"CodeList{self.labels()!r}"



MONITORING_KINDS = CodeList(MONITORING_KINDS_NATIONAL, "monitoring_kinds")
# Listed top-level (filters and breakdowns show 12 risks, zeros included); a stored subtype
# ("因自然灾害·洪涝灾害") is a valid value too and shows under its own label where it occurs.
MONITORING_RISKS = CodeList(MONITORING_RISKS_TOP, "monitoring_risks",
                            also_accepted=MONITORING_RISKS_NATIONAL[len(MONITORING_RISKS_TOP):])
FUND_SOURCES = CodeList(FUND_SOURCES_NATIONAL, "fund_sources")


def monitoring_kinds() -> tuple[str, ...]:
    """监测对象类型: the national three, then the deployment's own (e.g. 即时帮扶)."""
    return MONITORING_KINDS.labels()


def monitoring_risks(top_level: bool = False) -> tuple[str, ...]:
    """监测风险: the national list (因自然灾害 with its subtypes unless ``top_level``), then the deployment's."""
    base = MONITORING_RISKS_TOP if top_level else MONITORING_RISKS_NATIONAL
    return base + MONITORING_RISKS.extra


def fund_sources(year: int | None = None) -> tuple[str, ...]:
    """资金来源 accepted for ``year``: the campaign's up to 2020, the 2021– list from 2021 (both when no
    year is given), then the deployment's own."""
    if year is None:
        base = FUND_SOURCES_NATIONAL
    else:
        base = FUND_SOURCES_CAMPAIGN if year < CONSOLIDATION_SINCE else FUND_SOURCES_CONSOLIDATION
    return base + FUND_SOURCES.extra


def is_consolidation_year(year: int) -> bool:
    """2021 onward: 巩固拓展脱贫攻坚成果 (the monitoring era); no 贫困发生率 is reported."""
    return year >= CONSOLIDATION_SINCE


# ---- deadlines and shares a deployment sets (the same [codes] table / environment) ------------------------
# identify_deadline_days: days from a risk being found to the household being identified as a monitoring
#   object; many provinces set 15 (REGISTRY_IDENTIFY_DEADLINE_DAYS).
# industry_share: the least share (%) of 中央财政衔接推进乡村振兴补助资金 for 产业发展 projects, from a year on.
#   The percentages are the 中央一号文件's targets ("力争", not a hard floor): 2023年中央一号文件 "力争将中央财政
#   衔接推进乡村振兴补助资金用于产业发展的比重提高到60%以上" (checked); 55 % for 2022 as the provinces applied it
#   (e.g. 内蒙古 2022: "原则上不得低于……55%"); the fund's 管理办法 (财农〔2021〕19号) was not found to set a figure.
#   A deployment checks its year's provincial document and sets {"2022" = 55, "2023" = 60}: each year takes the
#   entry of the latest year up to it; none before the first (or REGISTRY_INDUSTRY_SHARE = "2022:55,2023:60").
CHANNELS = ("农户自主申报", "干部排查", "部门筛查预警")
IDENTIFY_DEADLINE_DAYS = 15
INDUSTRY_SHARE_DEFAULT = {2022: 55.0, 2023: 60.0}


def identify_deadline_days() -> int:
    """The deployment's 识别时限 (days), default 15."""
    env = ascii_whole(os.environ.get("REGISTRY_IDENTIFY_DEADLINE_DAYS", "").strip(), 1, 365)
    if env is not None:
        return env
    value = deployment_config().get("identify_deadline_days")
    return int(value) if isinstance(value, int) and 1 <= value <= 365 else IDENTIFY_DEADLINE_DAYS


def industry_shares() -> dict[int, float]:
    """{from year: least 产业发展 share (%)} of the deployment, default INDUSTRY_SHARE_DEFAULT."""
    env = os.environ.get("REGISTRY_INDUSTRY_SHARE", "").strip()
    table = deployment_config().get("industry_share")
    out: dict[int, float] = {}
    if env:
        for part in re.split(r"[\s,,;;]+", env):
            y, _, v = part.partition(":")
            year, share = ascii_whole(y.strip(), 2000, 2100), ascii_number(v.strip())
            if year is not None and share is not None and 0 <= share <= 100:
                out[year] = share
    elif isinstance(table, dict):
        for y, v in table.items():
            year = ascii_whole(str(y).strip(), 2000, 2100)
            if year is not None and isinstance(v, (int, float)) and 0 <= v <= 100:
                out[year] = float(v)
    return out or dict(INDUSTRY_SHARE_DEFAULT)


def industry_share_threshold(year: int) -> float | None:
    """The least 产业发展 share (%) of 中央衔接资金 for ``year`` (None: no rule for that year)."""
    got = [(y, v) for y, v in industry_shares().items() if y <= year]
    return max(got)[1] if got else None
