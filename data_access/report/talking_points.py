"""讲话要点: the sentences a leader reads out before a meeting, ranked, each number one click from its proof.

For a scope and a year, every rule below looks at one thing a meeting is told about: what changed on the
year before, who lags (against the scope's own figure or a set threshold), and what needs a decision. A rule
that finds something worth saying gives a ``Point``: one sentence in the register of the county and township
work reports, its figures, the comparison that makes it worth saying, a score, and the page (path and query
string with region, year and filters) that shows the figure. The list is ranked by score; the callers show
the top N (``Thresholds.top_n``) and say so when no rule found anything.

Rules (``RULES``; each has a name, the years it applies to, a threshold the deployment sets in
``Thresholds`` and a score):

- 脱贫攻坚 years (≤ 2020): ``exit_target`` 年度减贫任务完成情况 (脱贫进度), ``incidence_change`` 贫困发生率较上年
  (脱贫进度), ``near_line`` 收入临界户 (脱贫进度);
- 防返贫监测 years (≥ 2021): ``monitoring_new`` 新识别监测对象较上年 (防返贫监测), ``risk_removal`` 风险消除与仍有
  风险 (防返贫监测), ``income_warning`` 收入预警未纳入监测 (防返贫监测);
- every year: ``spending_laggard`` 支出进度落后的下级区划 (资金项目·执行进度), ``spent_over_paid``
  支出超过拨付等数据问题 (资金项目·数据问题), ``late_projects`` 逾期项目 (资金项目·项目清单), ``visit_rate``
  入户率低于要求 (帮扶力量), each only when the data exist.

Every figure is taken from the query function the linked page calls, with the page's arguments, and formatted
by the page's rule (``report.formatting``: counts with separators, percentages with two decimals as
``queries.common.pct`` rounds them). Each ``Fig`` says where the page shows it (``proof``: a metric's label, a
table row, a caption), so a test can open the link and find the same text. A new rule is a function
``(Facts) -> Point | None`` added to ``RULES``; its threshold goes in ``Thresholds``.

Thresholds: defaults in ``Thresholds``; a deployment sets them in ``.streamlit/secrets.toml``::

    [talking_points]
    top_n = 6
    spending_gap_points = 10

or with environment variables ``REGISTRY_TALKING_POINTS_<NAME>`` (``REGISTRY_TALKING_POINTS_TOP_N=8``).

No streamlit here.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, fields, replace
from typing import Callable
from urllib.parse import urlencode

import pandas as pd
from sqlalchemy.engine import Engine

from . import formatting as fmt
from ..codes import REGION_LEVEL_LABELS, ascii_number
from ..definitions import funds_rate_label
from ..db import read_secrets
from ..queries import exits, funds, help as helpq, monitoring
from ..queries.funds import PROBLEM_NO_PLACE, PROBLEM_SPENT_OVER_PAID
from ..rules import LAST_POVERTY_LINE_YEAR, visit_rate_label, window
from ..scope import Scope
from .brief import region_word

MONITORING_SINCE = LAST_POVERTY_LINE_YEAR + 1  # 防返贫动态监测 from 2021
FUNDS_VIEWS = {"exec": "执行进度", "projects": "项目清单", "problems": "数据问题"}  # pages/funds.py's VIEWS labels
NOTHING = "本范围本年度各项指标均未触及提示阈值,暂无需要特别提请会议注意的情况。"


# ---- thresholds: the defaults, in one place ------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """What makes a point worth saying (a deployment sets these: see the module docstring)."""

    top_n: int = 6  # points shown
    present_n: int = 4  # points on the projector screen (汇报模式: one 1280×720 screen, no scrolling)
    target_pct: float = 100.0  # 年度减贫任务: a completion rate under this is a shortfall
    incidence_change_points: float = 0.1  # 贫困发生率: a change of at least this many points is said
    income_margin_pct: int = 10  # 收入临界 / 收入预警: income under the line or less than this % above it
    near_line_min: int = 1  # 收入临界户: said from this many households
    monitoring_change_pct: float = 10.0  # 新识别监测对象: a change on the year before of at least this %
    monitoring_change_min: int = 3  # ... and of at least this many households
    income_warning_min: int = 1  # 收入预警未纳入监测: said from this many households
    at_risk_min: int = 1  # 风险消除: said while at least this many monitoring objects are still at risk
    spending_gap_points: float = 10.0  # 支出进度: a child region this many points below the scope is a laggard
    spending_laggards_named: int = 3  # at most this many laggards named in the sentence
    data_problems_min: int = 1  # 支出超过拨付 / 项目无地点: said from this many records
    late_projects_min: int = 1  # 逾期项目: said from this many projects
    idle_days: int = 90  # 项目清单's 资金滞留 days (the list's argument; the late flag does not depend on it)
    visit_rate_pct: float = 90.0  # 入户率: under this is a laggard
    visit_days: int = helpq.DEFAULT_DAYS  # 入户率 over the last N days (帮扶力量's default period)


ENV_PREFIX = "REGISTRY_TALKING_POINTS_"


def thresholds_from_settings(section: dict | None = None, environ: dict | None = None) -> tuple[Thresholds, list[str]]:
    """The deployment's thresholds ([talking_points] in secrets.toml, then the environment), and a Chinese
    message for each value that was refused (not a number, or negative: the default is kept)."""
    section = read_secrets().get("talking_points", {}) if section is None else section
    environ = os.environ if environ is None else environ
    values, problems = {}, []
    for f in fields(Thresholds):
        raw = environ.get(ENV_PREFIX + f.name.upper(), section.get(f.name))
        if raw is None or str(raw).strip() == "":
            continue
        number = ascii_number(str(raw).strip())
        whole = f.type in (int, "int")
        if number is None or number < 0 or (whole and not float(number).is_integer()):
            problems.append(f"讲话要点阈值 {f.name}={str(raw)[:24]} 无效,已用默认值 {getattr(Thresholds, f.name)}。")
            continue
        values[f.name] = int(number) if whole else float(number)
    return replace(Thresholds(), **values), problems


# ---- what a point is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fig:
    """One figure of a point, as its page shows it.

    ``page`` (a nav key) and ``params`` (query string) open the view; ``proof`` says where the view shows
    ``text``: ("metric", label) a metric's value; ("metric_help", label) inside a metric's help;
    ("metric_delta", label) a metric's change; ("caption", None) inside a caption;
    ("table", column, (key column, key)) the cell of the table row; ("table_rows", column, value) the number of
    rows of the table whose ``column`` is ``value``; ("subheader", None) inside a subheader.
    """

    label: str
    text: str  # as the page shows it (and as the sentence says it)
    value: float | int | None
    page: str
    params: tuple[tuple[str, str], ...]
    proof: tuple

    @property
    def url(self) -> str:
        return f"{self.page}?{urlencode(self.params)}"


@dataclass(frozen=True)
class Point:
    rule: str  # Rule.name
    title: str  # the rule's Chinese name
    kind: str  # 变化 · 落后 · 风险
    score: float
    sentence: str
    comparison: str  # what makes it worth saying, in words
    figures: tuple[Fig, ...]
    page: str  # the view that proves it (nav key)
    params: tuple[tuple[str, str], ...]

    @property
    def url(self) -> str:
        return f"{self.page}?{urlencode(self.params)}"

    @property
    def query_params(self) -> dict[str, str]:
        return dict(self.params)


@dataclass
class Facts:
    """What the rules read: the scope, the year, the data's as-of date and the thresholds; the query results
    are fetched once each (``get``) so two rules reading one page's figure read the same call."""

    engine: Engine
    scope: Scope
    year: int
    first_year: int
    last_year: int
    as_of: dt.date
    t: Thresholds
    names: dict = field(default_factory=dict)  # scope code -> name (the region itself)
    fetcher: Callable | None = None  # (fn, *args) -> fn(engine, scope, *args), e.g. the UI's shared page cache
    _cache: dict = field(default_factory=dict)

    def get(self, fn: Callable, *args):
        key = (fn.__module__, fn.__name__, args)
        if key not in self._cache:
            self._cache[key] = (self.fetcher(fn, *args) if self.fetcher is not None
                                else fn(self.engine, self.scope, *args))
        return self._cache[key]

    @property
    def word(self) -> str:
        return region_word(self.scope)

    @property
    def reference_date(self) -> dt.date:
        """As ``PageContext.reference_date``: the year's 31 December, or the as-of date when earlier."""
        return min(dt.date(self.year, 12, 31), self.as_of)

    def params(self, *, year: int | None = None, **extra) -> tuple[tuple[str, str], ...]:
        out = {"region": self.scope.code, "year": str(self.year if year is None else year)}
        out.update({k: str(v) for k, v in extra.items() if v is not None})
        return tuple(out.items())


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    kind: str  # 变化 · 落后 · 风险
    years: str  # "campaign" (≤2020), "monitoring" (≥2021) or "all"
    threshold: str  # the Thresholds fields it reads, in words
    fn: Callable[[Facts], "Point | None"]

    def applies(self, year: int) -> bool:
        return self.years == "all" or (self.years == "campaign") == (year < MONITORING_SINCE)


def _point(rule: str, score: float, sentence: str, comparison: str, figures: list[Fig], page: str, params) -> Point:
    spec = BY_NAME[rule]
    return Point(rule, spec.title, spec.kind, round(float(score), 2), sentence, comparison, tuple(figures), page,
                 tuple(params))


def _known(v) -> bool:
    return v is not None and not (isinstance(v, float) and v != v) and not pd.isna(v)


def _gap(a: float, b: float) -> str:
    """A difference of two percentages as the reports say it (2 decimals, no sign)."""
    return f"{abs(a - b):.2f}"


# ---- 脱贫攻坚 years ------------------------------------------------------------------------------


def exit_target(f: Facts) -> Point | None:
    """年度减贫任务: this year's exits (户) against the target. A shortfall under ``target_pct`` scores 30 plus the
    points missing; a target met scores 20 (a line every meeting of those years opens with)."""
    prog = f.get(exits.progress, f.first_year, f.last_year)
    rows = prog[prog["year"] == f.year]
    if rows.empty or not _known(rows.iloc[0]["target_households"]):
        return None
    r = rows.iloc[0]
    done, target, rate = int(r["exited_households"]), int(r["target_households"]), r["target_pct_households"]
    if not _known(rate):
        return None
    params = f.params()
    figs = [
        Fig("本年脱贫(户)", fmt.count(done), done, "exits", params, ("metric", "本年脱贫(户)")),
        Fig("年度减贫任务(户)", fmt.count(target), target, "exits", params, ("metric_help", "任务完成率(%)")),
        Fig("任务完成率(%)", fmt.percent(rate), rate, "exits", params, ("metric", "任务完成率(%)")),
    ]
    head = f"{f.year}年{f.word}脱贫{figs[0].text}户,年度减贫任务{figs[1].text}户,完成任务的{figs[2].text}"
    if rate < f.t.target_pct:
        short = target - done
        figs.append(Fig("尚差(户)", fmt.count(short), short, "exits", params,
                        ("derived", "年度减贫任务(户) − 本年脱贫(户)")))
        sentence = head + f",尚差{figs[3].text}户,需加快推进。"
        return _point("exit_target", 30 + (f.t.target_pct - rate), sentence,
                      f"完成率低于{f.t.target_pct:g}%", figs, "exits", params)
    return _point("exit_target", 20, head + ",全面完成年度减贫任务。", f"完成率达到{f.t.target_pct:g}%",
                  figs, "exits", params)


def incidence_change(f: Facts) -> Point | None:
    """贫困发生率 on the year before (脱贫进度's figure and its change). Scores 10 per point of change."""
    if f.year <= f.first_year:
        return None
    prog = f.get(exits.progress, f.first_year, f.last_year)
    now, before = prog[prog["year"] == f.year], prog[prog["year"] == f.year - 1]
    if now.empty or before.empty:
        return None
    a, b = now.iloc[0]["incidence"], before.iloc[0]["incidence"]
    if not (_known(a) and _known(b)):
        return None
    change = round(a - b, 2)
    if abs(change) < f.t.incidence_change_points:
        return None
    params = f.params()
    figs = [
        Fig(f"{f.year - 1}年贫困发生率(%)", fmt.percent(b), b, "exits", f.params(year=f.year - 1),
            ("metric", "贫困发生率(%)")),
        Fig(f"{f.year}年贫困发生率(%)", fmt.percent(a), a, "exits", params, ("metric", "贫困发生率(%)")),
        Fig("较上年(百分点)", _gap(a, b), abs(change), "exits", params, ("metric_delta", "贫困发生率(%)")),
    ]
    verb = "降至" if change < 0 else "升至"
    move = "下降" if change < 0 else "上升"
    sentence = (f"{f.word}贫困发生率由{f.year - 1}年的{figs[0].text}{verb}{figs[1].text},"
                f"{move}{figs[2].text}个百分点" + ("。" if change < 0 else ",需查明原因。"))
    return _point("incidence_change", abs(change) * 10 + (20 if change > 0 else 0), sentence,
                  f"较上年变化不少于{f.t.incidence_change_points:g}个百分点", figs, "exits", params)


def near_line(f: Facts) -> Point | None:
    """收入临界户: exited households under the line or less than ``income_margin_pct`` % above it (脱贫进度).
    Scores 25 plus their share (%) of the exited households the list judges."""
    margin = float(f.t.income_margin_pct)
    near = f.get(exits.near_line, f.year, margin, exits.LIST_LIMIT)
    n = int(near["households"])
    if n < max(1, f.t.near_line_min):
        return None
    params = f.params(margin=f"{margin:g}")
    below = int(near["below_households"])
    figs = [
        Fig("收入临界(户)", fmt.count(n), n, "exits", params, ("metric", "收入临界(户)")),
        Fig("低于标准线(户)", fmt.count(below), below, "exits", params, ("metric_help", "收入临界(户)")),
    ]
    if not below:
        figs = figs[:1]
    sentence = (f"{f.word}已脱贫户中有{figs[0].text}户最新年人均纯收入低于标准线或高出不足{margin:g}%,"
                + (f"其中低于标准线{figs[1].text}户," if below else "")
                + "存在返贫风险,需逐户落实帮扶措施。")
    head = f.get(exits.progress, f.first_year, f.last_year)
    exited = head[head["year"] == f.year]
    base = int(exited.iloc[0]["cum_exited_households"]) if len(exited) else 0
    share = 100.0 * n / base if base else 0.0
    return _point("near_line", 25 + min(share, 50), sentence, f"收入低于标准线×(1+{margin:g}%)", figs, "exits", params)


# ---- 防返贫监测 years ---------------------------------------------------------------------------


def _new_monitored(f: Facts, year: int) -> int:
    return int(f.get(monitoring.breakdown, year, "kind")["new_households"].sum())


def monitoring_new(f: Facts) -> Point | None:
    """新识别监测对象 this year against the year before (防返贫监测's figure). Said when it changed by at least
    ``monitoring_change_pct`` % and ``monitoring_change_min`` households; scores half the change in % (at most
    50), 15 in the first monitoring year."""
    now = _new_monitored(f, f.year)
    params = f.params()
    label = f"{f.year}年新识别(户)"
    fig_now = Fig(label, fmt.count(now), now, "monitoring", params, ("metric", label))
    if f.year - 1 < max(MONITORING_SINCE, f.first_year):
        if not now:
            return None
        sentence = f"{f.year}年{f.word}新识别监测对象{fig_now.text}户,需逐户落实帮扶责任人和帮扶措施。"
        return _point("monitoring_new", 15, sentence, "监测首年", [fig_now], "monitoring", params)
    before = _new_monitored(f, f.year - 1)
    if not now and not before:
        return None
    change = 100.0 * (now - before) / before if before else 100.0
    if abs(change) < f.t.monitoring_change_pct or abs(now - before) < f.t.monitoring_change_min:
        return None
    before_label = f"{f.year - 1}年新识别(户)"
    fig_before = Fig(before_label, fmt.count(before), before, "monitoring", f.params(year=f.year - 1),
                     ("metric", before_label))
    if now > before:
        tail = "增多,需分析新增风险的主要成因,做到早发现、早干预、早帮扶。"
    else:
        tail = "减少,监测帮扶成效初显,仍需防止漏报漏评。"
    sentence = f"{f.year}年{f.word}新识别监测对象{fig_now.text}户,较上年的{fig_before.text}户有所{tail}"
    return _point("monitoring_new", min(50.0, abs(change) / 2), sentence,
                  f"较上年变化不少于{f.t.monitoring_change_pct:g}%", [fig_now, fig_before], "monitoring", params)


def risk_removal(f: Facts) -> Point | None:
    """风险消除: risks removed this year, the removal rate and the households still at risk (防返贫监测), said
    while at least ``at_risk_min`` remain at risk. Scores half the share still at risk (%) plus 10."""
    tot = f.get(monitoring.totals, f.year)
    at_risk = tot["at_risk_households"]
    if not tot["households"] or at_risk < max(1, f.t.at_risk_min):
        return None
    removed = f.get(monitoring.removal_time, f.year)
    params = f.params()
    this_year = int(removed["removed_households"])
    figs = []
    lead = f"{f.year}年{f.word}"
    if this_year:
        label = f"{f.year}年风险消除(户)"
        figs.append(Fig(label, fmt.count(this_year), this_year, "monitoring", params, ("metric", label)))
        lead += f"消除风险{figs[-1].text}户;"
    figs += [
        Fig("监测对象(户)", fmt.count(tot["households"]), tot["households"], "monitoring", params,
            ("metric", "监测对象(户)")),
        Fig("风险消除率(%)", fmt.percent(tot["removal_rate"]), tot["removal_rate"], "monitoring", params,
            ("metric", "风险消除率(%)")),
        Fig("仍有风险(户)", fmt.count(at_risk), at_risk, "monitoring", params, ("metric", "仍有风险(户)")),
    ]
    sentence = (lead + f"截至年底累计识别监测对象{figs[-3].text}户,风险消除率{figs[-2].text},"
                f"仍有{figs[-1].text}户风险未消除,需持续跟踪帮扶,守住不发生规模性返贫的底线。")
    share = 100.0 * at_risk / tot["households"]
    return _point("risk_removal", share / 2 + 10, sentence, "仍有风险未消除的监测对象", figs, "monitoring", params)


def income_warning(f: Facts) -> Point | None:
    """收入预警: exited households under the monitoring line or less than ``income_margin_pct`` % above it who are
    not monitoring objects (防返贫监测): a decision whether to identify them. Scores 40 plus their number (≤ 40)."""
    margin = int(f.t.income_margin_pct)
    warn = f.get(monitoring.income_warnings, f.year, margin)
    n = int(warn["total"])
    if n < max(1, f.t.income_warning_min):
        return None
    params = f.params(margin=margin)
    below = int(warn["below"])
    figs = [
        Fig("收入预警(户)", fmt.count(n), n, "monitoring", params, ("metric", "收入预警(户)")),
        Fig("低于监测线(户)", fmt.count(below), below, "monitoring", params, ("metric", "低于监测线(户)")),
    ]
    if not below:
        figs = figs[:1]
    sentence = (f"{f.word}有{figs[0].text}户脱贫户人均纯收入低于监测线或高出不足{margin}%,尚未纳入监测,"
                + (f"其中低于监测线{figs[1].text}户," if below else "")
                + "需逐户核实,符合条件的及时纳入监测帮扶。")
    return _point("income_warning", 40 + min(n, 40), sentence, "未纳入监测的收入预警户", figs, "monitoring", params)


# ---- every year: money, projects, help --------------------------------------------------------


def spending_laggard(f: Facts) -> Point | None:
    """支出进度: child regions whose 支出进度 (against 安排) is ``spending_gap_points`` or more below the scope's own
    (资金项目·执行进度, 按乡镇/村). Scores twice the widest gap."""
    if f.scope.child_level is None:
        return None
    total = f.get(funds.execution, f.year, None, None)
    overall = total["spent_rate_arranged"]
    if not _known(overall):
        return None
    by = f.get(funds.execution_by, f.year, "region", None, None)
    if by.empty:
        return None
    slow = by[by["key"].notna() & by["spent_rate"].notna() & (by["spent_rate"] <= overall - f.t.spending_gap_points)]
    if slow.empty:
        return None
    slow = slow.sort_values(["spent_rate", "key"]).head(max(1, f.t.spending_laggards_named))
    child = REGION_LEVEL_LABELS.get(f.scope.child_level, "下级")
    params = f.params(view=FUNDS_VIEWS["exec"])
    figs = [Fig(f"{f.word[1:]}支出进度(%)", fmt.percent(overall), overall, "funds", params, ("caption", None))]
    parts = []
    for r in slow.itertuples():
        figs.append(Fig(f"{r.name}支出进度(%)", fmt.percent(r.spent_rate), r.spent_rate, "funds", params,
                        ("table", funds_rate_label("支出进度", "arranged"), (child, r.name))))
        parts.append(f"{r.name}{figs[-1].text}")
    n_more = int((by["key"].notna() & by["spent_rate"].notna()
                  & (by["spent_rate"] <= overall - f.t.spending_gap_points)).sum()) - len(slow)
    sentence = (f"{f.year}年{f.word}安排到项目的资金支出进度为{figs[0].text},"
                f"{'、'.join(parts)}" + (f"等{len(slow) + n_more}个{child}" if n_more > 0 else "")
                + f"低于{f.word}{f.t.spending_gap_points:g}个百分点以上,需督促加快资金支出。")
    widest = overall - float(slow.iloc[0]["spent_rate"])
    return _point("spending_laggard", 2 * widest, sentence, f"低于{f.word}不少于{f.t.spending_gap_points:g}个百分点",
                  figs, "funds", params)


def spent_over_paid(f: Facts) -> Point | None:
    """数据问题 that need a decision: projects whose 支出 exceeds their 拨付, and projects with no place
    (资金项目·数据问题, 本年度). Scores 50 plus the records (≤ 30)."""
    found = f.get(funds.data_problems, f.year)
    if found.empty:
        return None
    over = int((found["problem"] == PROBLEM_SPENT_OVER_PAID).sum())
    no_place = int((found["problem"] == PROBLEM_NO_PLACE).sum())
    if over + no_place < max(1, f.t.data_problems_min):
        return None
    params = f.params(view=FUNDS_VIEWS["problems"])
    figs, parts = [], []
    if over:
        figs.append(Fig(f"{PROBLEM_SPENT_OVER_PAID}(个)", fmt.count(over), over, "funds", params,
                        ("table_rows", "问题", PROBLEM_SPENT_OVER_PAID)))
        parts.append(f"{figs[-1].text}个项目支出超过拨付")
    if no_place:
        figs.append(Fig(f"{PROBLEM_NO_PLACE}(个)", fmt.count(no_place), no_place, "funds", params,
                        ("table_rows", "问题", PROBLEM_NO_PLACE)))
        parts.append(f"{figs[-1].text}个项目未填写所在地点")
    sentence = (f"资金数据核查发现,{f.year}年{f.word}有" + "、".join(parts)
                + ",需责成相关单位核实更正,确保账实相符。")
    return _point("spent_over_paid", 50 + min(over + no_place, 30), sentence, "违反“支出≤拨付”或缺少地点", figs,
                  "funds", params)


def late_projects(f: Facts) -> Point | None:
    """逾期项目: the year's projects not finished by their planned end, or finished after it (资金项目·项目清单).
    Scores 10 plus half their share (%) of the year's projects."""
    plist = f.get(funds.projects, f.year, f.as_of, int(f.t.idle_days), None, None)
    if plist.empty:
        return None
    late = int(plist["late"].sum())
    if late < max(1, f.t.late_projects_min):
        return None
    params = f.params(view=FUNDS_VIEWS["projects"], days=int(f.t.idle_days))
    figs = [
        Fig("项目(个)", fmt.count(len(plist)), len(plist), "funds", params, ("metric", "项目(个)")),
        Fig("逾期项目(个)", fmt.count(late), late, "funds", params, ("metric", "逾期项目(个)")),
    ]
    sentence = (f"{f.year}年{f.word}共实施扶贫项目{figs[0].text}个,其中{figs[1].text}个未按计划工期完工,"
                "需压实项目主管部门责任,加快建设进度。")
    return _point("late_projects", 10 + 50.0 * late / len(plist), sentence, "计划完工日已过仍未完工或延期完工", figs,
                  "funds", params)


def visit_rate(f: Facts) -> Point | None:
    """入户率 over the last ``visit_days`` days (帮扶力量's default period) under ``visit_rate_pct``, when the visit
    records cover the whole period. Scores three times the points missing."""
    on = f.reference_date
    period = window(on, int(f.t.visit_days))
    previous = window(period[0] - dt.timedelta(days=1), int(f.t.visit_days))
    span = f.get(helpq.visit_span)
    if span["first"] is None or period[0] < span["first"]:
        return None  # the visit records do not cover the period: no rate to speak of
    rates = f.get(helpq.visit_rates, (period, previous), "total")
    if rates.empty:
        return None
    now = rates.iloc[0]
    rate = now["visit_rate"]
    if not _known(rate) or not int(now["assigned_households"]) or rate >= f.t.visit_rate_pct:
        return None
    label = visit_rate_label(f.year, f.as_of, int(f.t.visit_days)) + "(%)"
    params = f.params(days=int(f.t.visit_days))
    figs = [
        Fig(label, fmt.percent(rate), rate, "help", params, ("metric", label)),
        Fig("结对帮扶户(户)", fmt.count(now["assigned_households"]), int(now["assigned_households"]), "help", params,
            ("metric", "结对帮扶户(户)")),
        Fig("已入户(户)", fmt.count(now["visited_households"]), int(now["visited_households"]), "help", params,
            ("metric", "已入户(户)")),
    ]
    words = label.replace("(%)", "")
    sentence = (f"{f.word}结对帮扶户{figs[1].text}户,{words}为{figs[0].text}(已入户{figs[2].text}户),"
                f"低于{f.t.visit_rate_pct:g}%的要求,需督促帮扶责任人按要求入户走访。")
    return _point("visit_rate", 3 * (f.t.visit_rate_pct - rate), sentence, f"低于{f.t.visit_rate_pct:g}%", figs,
                  "help", params)


RULES: tuple[Rule, ...] = (
    Rule("exit_target", "年度减贫任务", "变化", "campaign", "target_pct", exit_target),
    Rule("incidence_change", "贫困发生率变化", "变化", "campaign", "incidence_change_points", incidence_change),
    Rule("near_line", "收入临界户", "风险", "campaign", "income_margin_pct, near_line_min", near_line),
    Rule("monitoring_new", "新识别监测对象", "变化", "monitoring", "monitoring_change_pct", monitoring_new),
    Rule("risk_removal", "风险消除", "风险", "monitoring", "at_risk_min", risk_removal),
    Rule("income_warning", "收入预警未纳入监测", "风险", "monitoring", "income_margin_pct, income_warning_min",
         income_warning),
    Rule("spending_laggard", "支出进度落后", "落后", "all", "spending_gap_points, spending_laggards_named",
         spending_laggard),
    Rule("spent_over_paid", "资金数据问题", "风险", "all", "data_problems_min", spent_over_paid),
    Rule("late_projects", "项目逾期", "落后", "all", "late_projects_min", late_projects),
    Rule("visit_rate", "入户率偏低", "落后", "all", "visit_rate_pct, visit_days", visit_rate),
)
BY_NAME = {r.name: r for r in RULES}


def talking_points(engine: Engine, scope: Scope, year: int, first_year: int, last_year: int, as_of: dt.date,
                   thresholds: Thresholds | None = None, fetcher: Callable | None = None) -> list[Point]:
    """Every point the rules find for ``scope`` in ``year``, highest score first (ties by the rules' order).
    The callers show ``top(points, thresholds.top_n)``; an empty list means nothing is worth saying (``NOTHING``).
    ``fetcher(fn, *args)`` runs each query instead of calling it directly (the UI passes its cache, so the
    points and the pages they link to share one result per query)."""
    f = Facts(engine, scope, int(year), int(first_year), int(last_year), as_of, thresholds or Thresholds(),
              fetcher=fetcher)
    found = []
    for i, rule in enumerate(RULES):
        if not rule.applies(f.year):
            continue
        point = rule.fn(f)
        if point is not None:
            found.append((-point.score, i, point))
    return [p for _, _, p in sorted(found, key=lambda t: (t[0], t[1]))]


def top(points: list[Point], n: int) -> list[Point]:
    return list(points[:max(0, int(n))])


def as_text(points: list[Point], region_name: str, year: int) -> str:
    """The points as numbered lines (for the .docx, the speaker notes and copying)."""
    if not points:
        return f"{region_name}{year}年讲话要点:{NOTHING}"
    lines = [f"{region_name}{year}年讲话要点:"]
    lines += [f"{i}. {p.sentence}" for i, p in enumerate(points, 1)]
    return "\n".join(lines)
