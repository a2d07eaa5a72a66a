"""Charts of the 致贫原因 and 脱贫进度 pages, each returned with its Chinese data table.

Every function takes query results (already aggregated), draws through ``charts.with_table``
and returns the clicked point (a dict of field values) where the chart is clickable.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .style import with_table
from data_access.report import formatting as fmt
from .matrix import heatmap, selected
from data_access.report.palette import BAD, CATEGORICAL, GOOD, NEUTRAL
from ..shell.theme import FONT_STACK

MEASURES = {"households": "户数", "persons": "人数"}
UNITS = {"households": "户", "persons": "人"}


WALL_BARS = 7  # presentation mode: the largest seven, the rest as one 其他 bar (larger labels need the room)
OTHER = "其他"


def fold(data: pd.DataFrame, by: str, label_col: str = "cause", keep: int = WALL_BARS) -> pd.DataFrame:
    """The ``keep`` largest rows by ``by``; the others (and a row already named 其他) summed into one 其他 row.
    Numeric columns are summed (counts and shares of one total add up)."""
    ranked = data.sort_values(by, ascending=False)
    top = ranked[ranked[label_col] != OTHER].head(keep)
    rest = ranked.drop(top.index)
    if rest.empty:
        return data
    numeric = [c for c in data.columns if c != label_col and pd.api.types.is_numeric_dtype(data[c])]
    other = {label_col: OTHER, **{c: rest[c].sum() for c in numeric}}
    return pd.concat([top, pd.DataFrame([other])], ignore_index=True)


def titled(chart, title: str | None):
    return chart.properties(title=title) if title else chart


def cause_bars(mix: pd.DataFrame, measure: str, key: str, height: int | None = None,
               compact: bool = False, title: str | None = None) -> dict | None:
    """Main causes as horizontal bars, largest first, labelled with count and share (``compact``:
    no value axis, the labels carry the numbers)."""
    unit, share = UNITS[measure], f"{measure}_pct"
    data = mix[["cause", measure, share]].copy()
    if compact:
        data = fold(data, measure)
    data["_label"] = [f"{fmt.count(n)} {unit}({fmt.percent(p)})" for n, p in zip(data[measure], data[share])]
    order = list(data.sort_values(measure, ascending=False)["cause"])
    if OTHER in order:  # 其他 last
        order = [c for c in order if c != OTHER] + [OTHER]
    picked = alt.selection_point(name="cause", fields=["cause"], on="click", empty=False)
    x_max = float(data[measure].max() or 1) * (2.0 if compact else 1.65)
    base = alt.Chart(data).encode(
        y=alt.Y("cause:N", sort=order, title=None, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
        x=alt.X(f"{measure}:Q", title=f"{MEASURES[measure]}({unit})", scale=alt.Scale(domain=[0, x_max]),
                axis=None if compact else alt.Axis(format=",d")),
    )
    bars = base.mark_bar(color=CATEGORICAL[0], cornerRadiusEnd=2).encode(
        opacity=alt.condition(picked, alt.value(1.0), alt.value(0.9)),
        tooltip=[alt.Tooltip("cause:N", title="致贫原因"),
                 alt.Tooltip(f"{measure}:Q", title=f"{MEASURES[measure]}({unit})", format=","),
                 alt.Tooltip(f"{share}:Q", title="占比(%)", format=".2f")],
    ).add_params(picked)
    labels = base.mark_text(align="left", dx=6, fontSize=15, font=FONT_STACK, color="#1A1A1A").encode(text="_label:N")
    table = mix.rename(columns={
        "cause": "主要致贫原因", "households": "户数(户)", "persons": "人数(人)",
        "households_pct": "户数占比(%)", "persons_pct": "人数占比(%)",
    })
    chart = titled(bars + labels, title)
    height = height or max(200, 32 * len(data) + 40)
    return selected(with_table(chart, table, key, height=height, on_select="rerun"))


def compare_bars(here: pd.DataFrame, base: pd.DataFrame, measure: str, here_name: str, base_name: str,
                 key: str, height: int | None = None, compact: bool = False,
                 title: str | None = None) -> dict | None:
    """Share of each cause here against the comparison region: grouped bars (percent), or with
    ``compact`` one bar per cause for the difference in percentage points."""
    share = f"{measure}_pct"
    merged = pd.merge(here[["cause", share]], base[["cause", share]], on="cause", how="outer",
                      suffixes=("_here", "_base")).fillna(0.0)
    merged["diff"] = fmt.half_up_all(merged[f"{share}_here"] - merged[f"{share}_base"], 2)
    order = list(here.sort_values(measure, ascending=False)["cause"]) + [
        c for c in merged["cause"] if c not in set(here["cause"])]
    long = pd.concat([
        pd.DataFrame({"cause": merged["cause"], "series": here_name, "share": merged[f"{share}_here"]}),
        pd.DataFrame({"cause": merged["cause"], "series": base_name, "share": merged[f"{share}_base"]}),
    ])
    picked = alt.selection_point(name="cause", fields=["cause"], on="click", empty=False)
    if compact:
        diff = merged.assign(side=[f"高于{base_name}" if d > 0 else f"低于{base_name}" for d in merged["diff"]],
                             _label=[f"{d:+.1f}" for d in merged["diff"]])
        reach = max(float(diff["diff"].abs().max() or 1), 1.0) * 1.3
        base_chart = alt.Chart(diff).encode(
            y=alt.Y("cause:N", sort=order, title=None, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
            x=alt.X("diff:Q", title=None, scale=alt.Scale(domain=[-reach, reach]), axis=None))
        chart = base_chart.mark_bar().encode(
            color=alt.Color("side:N", title=None, scale=alt.Scale(
                domain=[f"高于{base_name}", f"低于{base_name}"], range=[CATEGORICAL[3], CATEGORICAL[0]]),
                legend=None),
            tooltip=[alt.Tooltip("cause:N", title="致贫原因"),
                     alt.Tooltip("diff:Q", title="相差(百分点)", format="+.2f")],
        ).add_params(picked) + base_chart.mark_text(fontSize=15, font=FONT_STACK, dx=alt.expr(
            "datum.diff >= 0 ? 18 : -18")).encode(text="_label:N")
    else:
        chart = alt.Chart(long).mark_bar().encode(
            y=alt.Y("cause:N", sort=order, title=None, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
            yOffset=alt.YOffset("series:N", sort=[here_name, base_name]),
            x=alt.X("share:Q", title=f"占{MEASURES[measure]}比重(%)"),
            color=alt.Color("series:N", title=None, sort=[here_name, base_name],
                            scale=alt.Scale(domain=[here_name, base_name], range=[CATEGORICAL[0], NEUTRAL])),
            tooltip=[alt.Tooltip("cause:N", title="致贫原因"), alt.Tooltip("series:N", title="范围"),
                     alt.Tooltip("share:Q", title="占比(%)", format=".2f")],
        ).add_params(picked)
    table = merged.rename(columns={
        "cause": "主要致贫原因", f"{share}_here": f"{here_name}占比(%)", f"{share}_base": f"{base_name}占比(%)",
        "diff": "差异(百分点)",
    })
    table = table.set_index("主要致贫原因").loc[[c for c in order if c in set(merged["cause"])]].reset_index()
    height = height or max(220, 40 * len(merged) + 40)
    return selected(with_table(titled(chart, title), table, key, height=height, on_select="rerun"))


def other_cause_bars(counts: pd.DataFrame, key: str, height: int | None = None,
                     compact: bool = False, title: str | None = None) -> dict | None:
    """How many households list each cause as a 其他致贫原因."""
    data = counts.copy()
    if compact:
        data = fold(data, "households")
    data["_label"] = [f"{fmt.count(n)} 户" for n in data["households"]]
    order = list(data["cause"])
    picked = alt.selection_point(name="other", fields=["cause"], on="click", empty=False)
    x_max = float(data["households"].max() or 1) * (1.7 if compact else 1.4)
    base = alt.Chart(data).encode(
        y=alt.Y("cause:N", sort=order, title=None, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
        x=alt.X("households:Q", title="户数(户)", scale=alt.Scale(domain=[0, x_max]),
                axis=None if compact else alt.Axis(format=",d")))
    bars = base.mark_bar(color=CATEGORICAL[1]).encode(
        tooltip=[alt.Tooltip("cause:N", title="其他致贫原因"),
                 alt.Tooltip("households:Q", title="户数(户)", format=","),
                 alt.Tooltip("households_pct:Q", title="占建档立卡户(%)", format=".2f")],
    ).add_params(picked)
    labels = base.mark_text(align="left", dx=6, fontSize=15, font=FONT_STACK).encode(text="_label:N")
    table = counts.rename(columns={"cause": "其他致贫原因", "households": "户数(户)", "persons": "人数(人)",
                                   "households_pct": "占建档立卡户(%)"})
    return selected(with_table(titled(bars + labels, title), table, key,
                                      height=height or max(200, 30 * len(data) + 40),
                                      on_select="rerun"))


# ---- exit progress --------------------------------------------------------------


def exits_vs_target(progress: pd.DataFrame, measure: str, key: str, height: int = 330,
                    title: str | None = None, year: int | None = None) -> dict | None:
    """Exits per year (bars; ``year`` in orange) against the year's target (black tick), with % of
    target on top."""
    unit = UNITS[measure]
    data = progress[["year", f"exited_{measure}", f"target_{measure}", f"target_pct_{measure}"]].copy()
    data.columns = ["year", "exited", "target", "pct"]
    data = data[(data["exited"] > 0) | data["target"].notna()]
    data["_label"] = [fmt.share(e, t) if t is not None and t == t and t else "" for e, t in
                      zip(data["exited"], data["target"])]
    data["target"] = [None if t is None or t != t else float(t) for t in data["target"]]
    picked = alt.selection_point(name="year", fields=["year"], on="click", empty=False)
    base = alt.Chart(data).encode(x=alt.X("year:O", title="年度", axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(width={"band": 0.6}).encode(
        y=alt.Y("exited:Q", title=f"脱贫{MEASURES[measure]}({unit})", axis=alt.Axis(format=",d")),
        color=alt.condition(alt.datum.year == (year or 0), alt.value(CATEGORICAL[1]), alt.value(CATEGORICAL[0])),
        tooltip=[alt.Tooltip("year:O", title="年度"), alt.Tooltip("exited:Q", title=f"实际脱贫({unit})", format=","),
                 alt.Tooltip("target:Q", title=f"年度任务({unit})", format=","),
                 alt.Tooltip("pct:Q", title="完成任务(%)", format=".1f")],
    ).add_params(picked)
    ticks = base.mark_tick(color="#000000", thickness=3, size=46).encode(y="target:Q")
    labels = base.mark_text(dy=-10, fontSize=15, font=FONT_STACK).encode(
        y=alt.Y("max_value:Q"), text="_label:N").transform_calculate(
        max_value="max(datum.exited, datum.target || 0)")
    table = progress[["year", f"exited_{measure}", f"target_{measure}", f"target_pct_{measure}"]].rename(columns={
        "year": "年度", f"exited_{measure}": f"实际脱贫({unit})", f"target_{measure}": f"年度任务({unit})",
        f"target_pct_{measure}": "完成任务(%)",
    })
    chart = bars + ticks + labels
    return selected(with_table(chart.properties(title=title) if title else chart, table, key, height=height,
                                      on_select="rerun"))


def cumulative_curve(progress: pd.DataFrame, measure: str, key: str, height: int = 330,
                     title: str | None = None) -> None:
    """Cumulative exits (line) with the cumulative target (dashed) and the incidence table."""
    unit = UNITS[measure]
    actual = pd.DataFrame({"year": progress["year"], "series": "累计脱贫", "value": progress[f"cum_exited_{measure}"]})
    target = pd.DataFrame({"year": progress["year"], "series": "累计任务",
                           "value": [None if v is None or v != v else float(v)
                                     for v in progress[f"cum_target_{measure}"]]})
    long = pd.concat([target.dropna(), actual])
    chart = alt.Chart(long).mark_line(point=True, strokeWidth=3).encode(
        x=alt.X("year:O", title="年度", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=f"累计脱贫{MEASURES[measure]}({unit})", axis=alt.Axis(format=",d")),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=["累计脱贫", "累计任务"],
                                                               range=[CATEGORICAL[0], NEUTRAL]),
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=["累计脱贫", "累计任务"], range=[[1, 0], [6, 4]]),
                                  legend=None),
        tooltip=[alt.Tooltip("year:O", title="年度"), alt.Tooltip("series:N", title="系列"),
                 alt.Tooltip("value:Q", title=unit, format=",")],
    )
    table = progress[["year", f"cum_exited_{measure}", f"cum_target_{measure}", "poor_persons", "incidence"]].rename(
        columns={"year": "年度", f"cum_exited_{measure}": f"累计脱贫({unit},含其后返贫)",
                 f"cum_target_{measure}": f"累计任务({unit})",
                 "poor_persons": "年末贫困人口(人)", "incidence": "贫困发生率(%)"})
    with_table(chart.properties(title=title) if title else chart, table, key, height=height)


def incidence_bars(rows: pd.DataFrame, threshold: float, table: pd.DataFrame, key: str, label: str) -> dict | None:
    """Incidence of each place (columns code, name, incidence, poor_persons, rural_population) as
    bars coloured by the exit threshold (dashed rule); returns the clicked place's code."""
    data = rows.copy()
    data["incidence"] = [float(v) if v is not None and v == v else None for v in data["incidence"]]
    data["status"] = ["低于出列标准" if v is not None and v < threshold else "高于出列标准" for v in data["incidence"]]
    picked = alt.selection_point(name="place", fields=["code"], on="click", empty=False)
    order = list(data.sort_values("incidence", ascending=False)["name"])
    bars = alt.Chart(data).mark_bar().encode(
        y=alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
        x=alt.X("incidence:Q", title="贫困发生率(%)"),
        color=alt.Color("status:N", title=None,
                        scale=alt.Scale(domain=["高于出列标准", "低于出列标准"], range=[BAD, GOOD])),
        tooltip=[alt.Tooltip("name:N", title=label), alt.Tooltip("incidence:Q", title="贫困发生率(%)", format=".2f"),
                 alt.Tooltip("poor_persons:Q", title="贫困人口(人)", format=","),
                 alt.Tooltip("rural_population:Q", title="农村户籍人口(人)", format=",")],
    ).add_params(picked)
    rule = (alt.Chart(pd.DataFrame({"t": [threshold]}))
            .mark_rule(color="#000000", strokeDash=[6, 4], size=2).encode(x="t:Q"))
    height = max(180, 28 * len(data) + 50)
    return selected(with_table(bars + rule, table, key, height=height, on_select="rerun"))


def incidence_matrix(inc: pd.DataFrame, child_label: str, key: str) -> dict | None:
    """Incidence (%) of each child region (rows) in each year (columns); returns the clicked cell."""
    data = inc.copy()
    data["incidence_value"] = [float(v) if v is not None and v == v else 0.0 for v in data["incidence"]]
    data["year"] = data["year"].astype(str)
    names = list(data.drop_duplicates("code")["name"])
    years = sorted(set(data["year"]))
    wide = data.pivot_table(index="name", columns="year", values="incidence_value", aggfunc="first")
    wide = wide.reindex(index=names, columns=years).reset_index()
    wide.columns = [child_label] + [f"{y}年(%)" for y in years]
    return heatmap(data, x="year", y="name", count="incidence_value", share="incidence_value", x_title=None,
                   y_title=None, count_title="贫困发生率(%)", share_title="贫困发生率(%)", x_order=years,
                   y_order=names, table=wide, key=key, fields=["code", "name", "year"],
                   text_fn=lambda v: f"{v:.2f}", share_format=".2f",
                   tooltip_extra=[alt.Tooltip("poor_persons:Q", title="贫困人口(人)", format=","),
                                  alt.Tooltip("rural_population:Q", title="农村户籍人口(人)", format=",")])


def village_exits(by_year: pd.DataFrame, key: str) -> None:
    """Poor villages exited (出列) per year against the year's village target."""
    data = by_year[(by_year["exited_villages"] > 0) | by_year["target_villages"].notna()].copy()
    data["target_villages"] = [None if v is None or v != v else float(v) for v in data["target_villages"]]
    base = alt.Chart(data).encode(x=alt.X("year:O", title="年度", axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(color=CATEGORICAL[2], width={"band": 0.6}).encode(
        y=alt.Y("exited_villages:Q", title="出列贫困村(个)", axis=alt.Axis(format="d", tickMinStep=1)),
        tooltip=[alt.Tooltip("year:O", title="年度"), alt.Tooltip("exited_villages:Q", title="出列(个)"),
                 alt.Tooltip("target_villages:Q", title="任务(个)")])
    ticks = base.mark_tick(color="#000000", thickness=3, size=40).encode(y="target_villages:Q")
    labels = base.mark_text(dy=-10, fontSize=15, font=FONT_STACK).encode(y="exited_villages:Q",
                                                                         text="exited_villages:Q")
    table = by_year.rename(columns={"year": "年度", "exited_villages": "出列贫困村(个)",
                                    "target_villages": "出列任务(个)", "target_pct": "完成任务(%)"})
    with_table(bars + ticks + labels, table, key, height=260)


def village_table(villages: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The poor-village list with Chinese headers."""
    table = villages[["name", "town_name", "exit_year", "poor_persons", "rural_population", "incidence",
                      "below_threshold"]].copy()
    table["exit_year"] = [str(int(y)) if y is not None and y == y else "未出列" for y in table["exit_year"]]
    table["below_threshold"] = ["是" if b else "否" for b in table["below_threshold"]]
    return table.rename(columns={
        "name": "行政村", "town_name": "乡镇", "exit_year": "出列年度", "poor_persons": "贫困人口(人)",
        "rural_population": "农村户籍人口(人)", "incidence": "贫困发生率(%)",
        "below_threshold": f"低于出列标准{threshold:g}%",
    })


def step_bars(pipeline: pd.DataFrame, key: str) -> None:
    """Households at each exit step (脱贫程序), in procedure order."""
    data = pipeline.dropna(subset=["households"]).copy()
    data["households"] = data["households"].astype(int)
    data["_label"] = [f"{fmt.count(n)} 户" for n in data["households"]]
    order = list(pipeline["step"])
    base = alt.Chart(data).encode(y=alt.Y("step:N", sort=order, title=None))
    x_max = max(float(data["households"].max() or 1), 1.0) * 1.3
    bars = base.mark_bar(color=CATEGORICAL[2]).encode(
        x=alt.X("households:Q", title="户数(户)", scale=alt.Scale(domain=[0, x_max]),
                axis=alt.Axis(format=",d", tickMinStep=1, tickCount=5)),
        tooltip=[alt.Tooltip("step:N", title="环节"), alt.Tooltip("households:Q", title="户数(户)", format=","),
                 alt.Tooltip("persons:Q", title="人数(人)", format=",")])
    labels = base.mark_text(align="left", dx=6, fontSize=15, font=FONT_STACK).encode(x="households:Q", text="_label:N")
    table = pipeline.rename(columns={"step": "环节", "households": "户数(户)", "persons": "人数(人)"})
    with_table(bars + labels, table, key, height=max(180, 40 * len(data) + 40))


# ---- cause matrices ------------------------------------------------------------------


def cause_matrix(df: pd.DataFrame, *, col: str, row: str = "cause", measure: str, col_order: list,
                 row_order: list, col_title: str, row_title: str, share_within: str, key: str,
                 extra_fields: tuple = (), col_label=None, x_title: str | None = None,
                 x_angle: int = 0) -> dict | None:
    """A ``row`` × ``col`` matrix of counts (``measure``) coloured by the share within each row or
    column (``share_within`` is ``row`` or ``col``); the table is the wide count matrix."""
    unit = UNITS[measure]
    data = df.copy()
    group = col if share_within == col else row
    data["share"] = [fmt.ratio_pct(n, d, 1) for n, d in zip(data[measure],
                                                              data.groupby(group)[measure].transform("sum"))]
    cols = [c for c in col_order if c in set(data[col])]
    rows = [r for r in row_order if r in set(data[row])]
    wide = data.pivot_table(index=row, columns=col, values=measure, fill_value=0, aggfunc="sum")
    wide = wide.reindex(index=rows, columns=cols, fill_value=0).reset_index()
    label = col_label or (lambda c: c)
    wide.columns = [row_title] + [f"{label(c)}({unit})" for c in cols]
    share_title = f"占该{share_within == col and col_title or row_title}(%)"
    return heatmap(data, x=col, y=row, count=measure, share="share", x_title=x_title, y_title=None,
                   count_title=f"{MEASURES[measure]}({unit})", share_title=share_title,
                   x_order=cols, y_order=rows, table=wide, key=key,
                   fields=[*extra_fields, col, row], x_angle=x_angle)
