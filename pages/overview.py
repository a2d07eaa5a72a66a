"""总览: the chosen region at a glance."""

import streamlit as st

from components import format as fmt
from components.context import current
from components.data import fetch
from components.header import page_header
from components.kpi import Kpi, show
from data_access.queries import funds, monitoring, overview

ctx = current()
page_header(ctx, "总览")

now = fetch(overview.headline, ctx, ctx.year)
before = fetch(overview.headline, ctx, ctx.year - 1) if ctx.year > ctx.first_year else None


def change(key):
    return fmt.signed(now[key] - before[key]) if before is not None else None


money = fetch(funds.totals, ctx, ctx.year)
watch = fetch(monitoring.totals, ctx, ctx.year)
unit, _ = fmt.money_unit([money["allocated"] or money["arranged"]])
base_label = "下达" if money["base"] == "allocated" else "安排"

show([
    Kpi("建档立卡户数(户)", fmt.count(now["registered_households"]), change("registered_households")),
    Kpi("建档立卡人数(人)", fmt.count(now["registered_persons"]), change("registered_persons")),
    Kpi("已脱贫户数(户)", fmt.count(now["exited_households"]), change("exited_households")),
    Kpi("已脱贫人数(人)", fmt.count(now["exited_persons"]), change("exited_persons")),
    Kpi("未脱贫户数(户)", fmt.count(now["not_exited_households"]), change("not_exited_households"), up_is_good=False),
    Kpi("未脱贫人数(人)", fmt.count(now["not_exited_persons"]), change("not_exited_persons"), up_is_good=False),
    Kpi("返贫户数(户)", fmt.count(now["returned_households"]), change("returned_households"), up_is_good=False),
    Kpi("贫困发生率(%)", fmt.percent(now["incidence"]),
        fmt.signed(now["incidence"] - before["incidence"], 2) if before and before["incidence"] is not None
        and now["incidence"] is not None else None, up_is_good=False),
    Kpi("贫困村(个)", fmt.count(now["poor_villages"])),
    Kpi("已出列贫困村(个)", fmt.count(now["poor_villages_exited"]), change("poor_villages_exited")),
    Kpi(f"资金{base_label}({unit})", fmt.money(money["allocated"] if money["base"] == "allocated"
                                             else money["arranged"], unit).replace(f" {unit}", "")),
    Kpi("拨付率 / 支出进度(%)", f"{fmt.percent(money['paid_rate'], 1)} / {fmt.percent(money['spent_rate'], 1)}"),
    Kpi("监测对象(户)", fmt.count(watch["households"])),
    Kpi("监测对象(人)", fmt.count(watch["persons"])),
    Kpi("已消除风险(户)", fmt.count(watch["removed_households"])),
    Kpi("风险消除率(%)", fmt.percent(watch["removal_rate"], 1)),
])
