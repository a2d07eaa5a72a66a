"""The 2021– era: its headline (``headline``, composed from ``queries.consolidation`` and ``queries.monitoring``;
no SQL of its own) and its words: the cards, the 基本情况 sentences and the slide's figures (no streamlit).

The meetings after 2020 read (seed 004, domain §10): 脱贫人口 户/人 with the 享受政策 / 不享受政策 split;
监测对象 by kind, 风险已消除 / 未消除, 本年新识别; the share of 监测对象 with a 帮扶措施; 脱贫户年人均纯收入 and
its growth; 脱贫劳动力务工 and its change. No 贫困发生率 after 2020 (``NO_INCIDENCE_NOTE``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from sqlalchemy.engine import Engine

from . import formatting as fmt
from ..queries import consolidation, monitoring
from ..scope import Scope

NO_INCIDENCE_NOTE = ("2020年底现行标准下农村贫困人口全部脱贫,2021年起不再计算贫困发生率:"
                     "返贫致贫风险户纳入防返贫监测,按监测对象统计。")
NO_INCIDENCE_SHORT = "2021年起不再计算贫困发生率:返贫致贫风险纳入防返贫监测。"


def headline(engine: Engine, scope: Scope, year: int, fetcher: Callable | None = None) -> dict:
    """Every figure of the 2021– headline at the end of ``year`` (``queries.consolidation``'s definitions;
    监测对象 from ``queries.monitoring``). Keys: year, policy
    (``policy_split``), monitoring (``monitoring.totals`` plus new_households, new_persons), kinds
    (DataFrame: label, households, persons, removed_households, at_risk_households, new_households),
    help (``help_coverage``), income (``exited_income`` of ``latest_income_year`` plus year, previous (the
    year before it), growth_pct), work (``exited_workers``
    plus previous_working, change; None without data), returned_outside (count of
    ``returned_outside_monitoring``).
    ``fetcher(fn, *args)`` runs each query instead of calling it directly (the UI passes its cache: the overview
    and its 讲话要点 read ``monitoring.totals`` and ``breakdown`` too)."""
    def get(fn: Callable, *args):
        return fetcher(fn, *args) if fetcher is not None else fn(engine, scope, *args)

    totals = dict(get(monitoring.totals, year))  # a copy: the new-identification figures are added to it
    nh, np_ = get(consolidation.identified_in_year, year)
    totals.update(new_households=nh, new_persons=np_)
    kinds = get(monitoring.breakdown, year, "kind")
    income_year = get(consolidation.latest_income_year, year)
    income = dict(get(consolidation.exited_income, income_year))
    before = get(consolidation.exited_income, income_year - 1)
    income.update(year=income_year, previous=before["average"],
                  growth_pct=consolidation.growth_pct(income["average"], before["average"]))
    work = get(consolidation.exited_workers, year)
    if work is not None:
        work = dict(work)
        prev = get(consolidation.exited_workers, year - 1)
        work.update(previous_working=prev["working"] if prev else None,
                    change=work["working"] - prev["working"] if prev else None)
    return {
        "year": int(year), "policy": get(consolidation.policy_split, year), "monitoring": totals,
        "kinds": kinds, "help": get(consolidation.help_coverage, year), "income": income, "work": work,
        "returned_outside": get(consolidation.returned_outside_count, year),
    }


def yuan(value) -> str:
    """An income in whole 元, rounded half up, with thousands separators: 14,034."""
    if value is None:
        return "—"
    return f"{int(Decimal(repr(float(value))).quantize(Decimal('1'), rounding=ROUND_HALF_UP)):,}"


def pair(h: int, p: int) -> str:
    return f"{fmt.count(h)}户{fmt.count(p)}人"


def kinds_list(head: dict) -> list[dict]:
    """The monitoring kinds with at least one object (national kinds always), as dicts: label, households,
    persons, at_risk_households."""
    out = []
    for r in head["kinds"].to_dict("records"):
        if int(r["households"]) or r["label"] in ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户"):
            out.append({"label": str(r["label"]), "households": int(r["households"]), "persons": int(r["persons"]),
                        "at_risk_households": int(r["at_risk_households"])})
    return out


def policy_note(p: dict, year: int) -> str:
    """Why the 享受政策 split is not shown for ``year`` (the marks stand for the as-of year only)."""
    return (f"享受政策/不享受政策是户的现行标注(截至数据日期),只用于{p['marked_year']}年;"
            f"{year}年没有分年标注,不作统计。")


def cards(head: dict, cutoff: str | None = None) -> list[tuple[str, str, str | None, str | None, bool]]:
    """(label, value, change on the year before or None, help or None, up_is_good) of the headline, in order;
    ``cutoff`` names the moment the figures stand at ("2026年10月31日"; default "<year>年底")."""
    p, m, hp, inc, work = head["policy"], head["monitoring"], head["help"], head["income"], head["work"]
    year = head["year"]
    at = cutoff or f"{year}年底"
    out = [
        (f"脱贫人口({fmt.count(p['exited_households'])}户)", f"{fmt.count(p['exited_persons'])}人", None,
         f"{at}已脱贫的建档立卡户(不含其后返贫)。", True),
    ]
    if p["marked"]:
        out += [
            (f"脱贫享受政策({fmt.count(p['policy_households'])}户)", f"{fmt.count(p['policy_persons'])}人", None,
             "脱贫户中仍享受帮扶政策的(户的现行标注)。", True),
            (f"脱贫不享受政策({fmt.count(p['no_policy_households'])}户)", f"{fmt.count(p['no_policy_persons'])}人",
             None, "脱贫户中已不享受帮扶政策的(户的现行标注)。" + (
                 f"另有 {fmt.count(p['unmarked_households'])} 户未标注。" if p["unmarked_households"] else ""), True),
        ]
    else:
        out += [("脱贫享受政策", "—", None, policy_note(p, year), True),
                ("脱贫不享受政策", "—", None, policy_note(p, year), True)]
    out += [
        (f"监测对象({fmt.count(m['households'])}户)", f"{fmt.count(m['persons'])}人", None,
         f"截至{at}识别的防返贫监测对象(含已消除风险的)。", True),
        (f"风险已消除({fmt.count(m['removed_households'])}户)", f"{fmt.count(m['removed_persons'])}人", None,
         f"风险消除率 {fmt.percent(m['removal_rate'])}。", True),
        (f"风险未消除({fmt.count(m['at_risk_households'])}户)", f"{fmt.count(m['at_risk_persons'])}人", None,
         "仍在监测帮扶中的。", False),
        (f"{year}年新识别({fmt.count(m['new_households'])}户)", f"{fmt.count(m['new_persons'])}人", None,
         f"{year}年内识别为监测对象的。", False),
        ("落实帮扶措施(%)", fmt.percent(hp["helped_pct"]), None,
         f"{year}年在监测期内的监测对象 {fmt.count(hp['base_households'])} 户中,当年有帮扶措施的 "
         f"{fmt.count(hp['helped_households'])} 户。", True),
        (f"{inc['year']}年脱贫户人均纯收入(元)", yuan(inc["average"]),
         f"{inc['growth_pct']:+.2f}%" if inc["growth_pct"] is not None else None,
         f"已脱贫户家庭纯收入合计 ÷ 人数;较{inc['year'] - 1}年增长率。", True),
    ]
    if work is not None:
        out.append(("脱贫劳动力务工(人)", fmt.count(work["working"]),
                    fmt.signed(work["change"]) if work["change"] else None,
                    f"已脱贫户劳动力 {fmt.count(work['labour'])} 人中{year}年务工的(务工率 "
                    f"{fmt.percent(work['working_pct'])})。", True))
    else:
        out.append(("脱贫劳动力务工(人)", "—", None, "数据库中没有分年务工数据。", True))
    return out


def sentence(head: dict, region_name: str, region_word: str, cutoff: str | None = None) -> str | None:
    """The 基本情况 paragraph's opening for 2021 onward, in the register of the county reports (seed 004:
    "现有脱贫享受政策人口20694户、33902人,脱贫不享受政策7008户、14110人,即时帮扶人口552户、1184人")."""
    p, m, hp, inc, work = head["policy"], head["monitoring"], head["help"], head["income"], head["work"]
    year = head["year"]
    if not p["exited_households"] and not m["households"]:
        return None
    text = f"截至{cutoff or f'{year}年底'},{region_name}有脱贫人口{pair(p['exited_households'], p['exited_persons'])}"
    if p["marked"]:
        text += (f",其中脱贫享受政策{pair(p['policy_households'], p['policy_persons'])},"
                 f"脱贫不享受政策{pair(p['no_policy_households'], p['no_policy_persons'])}")
    text += "。"
    if m["households"]:
        kinds = "、".join(f"{k['label']}{pair(k['households'], k['persons'])}" for k in kinds_list(head)
                         if k["households"])
        text += (f"累计识别防返贫监测对象{pair(m['households'], m['persons'])}({kinds}),"
                 f"其中风险已消除{pair(m['removed_households'], m['removed_persons'])},"
                 f"风险未消除{pair(m['at_risk_households'], m['at_risk_persons'])};"
                 f"{year}年新识别{pair(m['new_households'], m['new_persons'])}。")
        if hp["base_households"]:
            text += (f"{year}年在监测期内的{fmt.count(hp['base_households'])}户监测对象中,"
                     f"{fmt.count(hp['helped_households'])}户落实了帮扶措施,占{fmt.percent(hp['helped_pct'])}。")
    else:
        text += f"{region_word}未识别防返贫监测对象。"
    if inc["average"] is not None:
        text += f"{inc['year']}年脱贫户人均纯收入{yuan(inc['average'])}元"
        if inc["growth_pct"] is not None:
            verb = "增长" if inc["growth_pct"] >= 0 else "下降"
            text += f",比上年{verb}{fmt.percent(abs(inc['growth_pct']))}"
        text += "。"
    if work is not None:
        text += f"脱贫劳动力务工{fmt.count(work['working'])}人"
        if work["change"] is not None:
            text += (f",比上年{'增加' if work['change'] >= 0 else '减少'}{fmt.count(abs(work['change']))}人"
                     if work["change"] else ",与上年持平")
        text += "。"
    if head["returned_outside"]:
        text += f"另有{fmt.count(head['returned_outside'])}户2020年后返贫但未纳入监测,需核实。"
    return text


def slide_figures(head: dict) -> list[tuple[str, str, str]]:
    """(label, value, note) of the 主要指标 slide for 2021 onward: eight cards, in the headline's order."""
    p, m, hp, inc, work = head["policy"], head["monitoring"], head["help"], head["income"], head["work"]
    out = [
        ("脱贫人口", f"{fmt.count(p['exited_persons'])}人", f"{fmt.count(p['exited_households'])}户"),
    ]
    if p["marked"]:
        out += [("脱贫享受政策", f"{fmt.count(p['policy_persons'])}人", f"{fmt.count(p['policy_households'])}户"),
                ("脱贫不享受政策", f"{fmt.count(p['no_policy_persons'])}人",
                 f"{fmt.count(p['no_policy_households'])}户")]
    else:
        out += [("脱贫享受政策", "—", f"仅{p['marked_year']}年有标注"),
                ("脱贫不享受政策", "—", f"仅{p['marked_year']}年有标注")]
    out += [
        ("防返贫监测对象", f"{fmt.count(m['households'])}户",
         f"{fmt.count(m['persons'])}人 · 本年新识别 {fmt.count(m['new_households'])}户"),
        ("风险已消除", f"{fmt.count(m['removed_households'])}户", f"风险未消除 {fmt.count(m['at_risk_households'])}户"),
        ("落实帮扶措施", fmt.percent(hp["helped_pct"]),
         f"{fmt.count(hp['helped_households'])}/{fmt.count(hp['base_households'])}户"),
        (f"{inc['year']}年脱贫户人均纯收入", f"{yuan(inc['average'])}元",
         f"比上年 {inc['growth_pct']:+.2f}%" if inc["growth_pct"] is not None else ""),
    ]
    if work is not None:
        change = "" if work["change"] is None else f"比上年 {fmt.signed(work['change'])}人"
        out.append(("脱贫劳动力务工", f"{fmt.count(work['working'])}人", change))
    return out
