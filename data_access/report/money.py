"""Money in 万元/亿元: the one rule for which unit, how an amount rounds, and how parts add up to a total.

- The unit: 亿元 (4 decimals) once the largest amount reaches 1 亿元, else 万元 (2 decimals)
  (``money_unit`` for the name and divisor, ``unit_for`` for the ``MoneyUnit``): tables, full precision.
- Figures read aloud (headlines, headline cards, slides, the funds sankey): ``headline_unit``, 亿元 to
  2 decimals (3.29 亿元, not 3.2925 亿元), 万元 (2 decimals) below 1 亿元.
- Rounding: half up (四舍五入) on whole 元 (``round_half_up``), so every page, the brief and the slides
  show the same digits.
- Parts of a total: every part shows its own correctly rounded value (``own_values``, ``money_columns``,
  ``with_total``); no part is nudged so that the parts add up. Where the rounded parts do not add up to the
  rounded total, ``parts_note`` says so in a footnote (the page shows it under the table or chart).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

YUAN_PER_WAN = 10_000
YUAN_PER_YI = 100_000_000


def money_unit(yuan_values) -> tuple[str, int]:
    """Pick 亿元 when the largest amount reaches 1 亿元, else 万元."""
    largest = max((abs(v) for v in yuan_values if v is not None), default=0)
    return ("亿元", YUAN_PER_YI) if largest >= YUAN_PER_YI else ("万元", YUAN_PER_WAN)


def round_half_up(yuan, step: int) -> int:
    """``yuan`` ÷ ``step`` rounded to the nearest whole, halves away from zero (四舍五入). ``yuan`` may carry
    fen (a Decimal or float from the database); it is not truncated to whole 元 first."""
    if isinstance(yuan, int):
        q, r = divmod(abs(yuan), step)
        q += 1 if 2 * r >= step else 0
        return q if yuan >= 0 else -q
    d = yuan if isinstance(yuan, Decimal) else Decimal(repr(float(yuan)))
    return int((d / step).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class MoneyUnit:
    name: str  # 亿元 / 万元
    divisor: int  # 元 per unit
    digits: int  # decimals shown

    @property
    def step(self) -> int:
        """元 per last digit shown."""
        return self.divisor // 10 ** self.digits

    @property
    def number_format(self) -> str:
        """A table column's printf format (st.column_config.NumberColumn): thousands separators."""
        return f"%,.{self.digits}f"

    def value(self, yuan) -> float | None:
        """One amount on its own, rounded to the digits shown."""
        if yuan is None or (isinstance(yuan, float) and yuan != yuan):
            return None
        units = round_half_up(yuan if isinstance(yuan, Decimal) else (int(yuan) if float(yuan).is_integer()
                                                                      else float(yuan)), self.step)
        return float(Decimal(units * self.step) / self.divisor)

    def text(self, yuan, with_unit: bool = True, sep: str = " ") -> str:
        """'1,234.57 万元' (the pages); ``sep=""`` writes it as the reports do: '1,234.57万元'."""
        v = self.value(yuan)
        if v is None:
            return "—"
        s = f"{v:,.{self.digits}f}"
        return f"{s}{sep}{self.name}" if with_unit else s


WAN = MoneyUnit("万元", YUAN_PER_WAN, 2)  # a column always in 万元 (the village's projects)


def unit_for(*yuan_values) -> MoneyUnit:
    """亿元 (4 decimals) once the largest amount reaches 1 亿元, else 万元 (2 decimals)."""
    name, divisor = money_unit([v for v in yuan_values if v is not None])
    return MoneyUnit(name, divisor, 4 if name == "亿元" else 2)


def headline_unit(*yuan_values) -> MoneyUnit:
    """The unit of figures read aloud: 亿元 to 2 decimals once the largest amount reaches 1 亿元, else
    万元 to 2 decimals (tables keep ``unit_for``'s full precision)."""
    name, divisor = money_unit([v for v in yuan_values if v is not None])
    return MoneyUnit(name, divisor, 2)


def own_values(values, unit: MoneyUnit) -> list[float | None]:
    """Each of ``values`` (元) in ``unit``, rounded on its own (四舍五入); None/NaN stay None."""
    return [unit.value(v) for v in values]


def parts_gap(values, unit: MoneyUnit, total=None) -> float:
    """(the rounded parts' sum) − (the rounded total), in ``unit`` (0.0 when they add up)."""
    vals = [v for v in values if v is not None and v == v]
    if not vals:
        return 0.0
    units = sum(round_half_up(_whole(v), unit.step) for v in vals)
    whole = round_half_up(_whole(sum(vals) if total is None else total), unit.step)
    return round((units - whole) * unit.step / unit.divisor, unit.digits)


def parts_note(values, unit: MoneyUnit, total=None, what: str = "各项") -> str | None:
    """A footnote when the parts, each rounded on its own, do not add up to the rounded total; else None."""
    gap = parts_gap(values, unit, total)
    if not gap:
        return None
    whole = unit.text(sum(v for v in values if v is not None and v == v) if total is None else total)
    return (f"注:{what}金额分别四舍五入,其和与合计 {whole} 相差 {abs(gap):,.{unit.digits}f} {unit.name}"
            f"({'多' if gap > 0 else '少'}),为舍入所致。")


def _whole(v):
    return int(v) if not isinstance(v, Decimal) and float(v).is_integer() else v


def money_columns(df: pd.DataFrame, columns: list[str], unit: MoneyUnit) -> pd.DataFrame:
    """Columns of 元 turned into ``unit``, each value rounded on its own."""
    out = df.copy()
    for c in columns:
        out[c] = pd.to_numeric(pd.Series(own_values(out[c], unit), index=out.index, dtype="object"))
    return out


def columns_note(df: pd.DataFrame, columns: list[str], unit: MoneyUnit, names: dict[str, str] | None = None,
                 what: str = "各行") -> str | None:
    """``parts_note`` for each money column of a table with a 合计 row (``with_total``), one footnote."""
    gaps = []
    for c in columns:
        values = [v for v in df[c] if v is not None and v == v]
        gap = parts_gap(values, unit)
        if gap:
            gaps.append(f"{(names or {}).get(c, c)}差 {abs(gap):,.{unit.digits}f}")
    if not gaps:
        return None
    return f"注:{what}金额分别四舍五入,与合计行不完全相等({'、'.join(gaps)} {unit.name}),为舍入所致。"


def with_total(df: pd.DataFrame, label_col: str, money_cols: list[str], unit: MoneyUnit,
               label: str = "合计", rate_cols: dict[str, tuple[str, str]] | None = None,
               extra: dict | None = None) -> pd.DataFrame:
    """``df`` (money in 元) in ``unit`` with a 合计 row: every row and the total rounded on its own
    (``columns_note`` for the footnote when they do not add up).

    ``rate_cols``: {column: (numerator, denominator)} recomputed on the total row (%).
    """
    total = {c: (int(df[c].dropna().astype("int64").sum()) if df[c].notna().any() else None) for c in money_cols}
    row = {c: None for c in df.columns}
    row.update({c: unit.value(v) for c, v in total.items()})
    row[label_col] = label
    for c, (num, den) in (rate_cols or {}).items():
        n, d = total.get(num), total.get(den)
        row[c] = round(100.0 * n / d, 2) if n is not None and d else None
    row.update(extra or {})
    parts = money_columns(df, money_cols, unit)
    return pd.concat([parts, pd.DataFrame([row], columns=df.columns)], ignore_index=True)
