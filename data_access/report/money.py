"""Money in 万元/亿元: the one rule for which unit, how an amount rounds, and how parts add up to a total.

- The unit: 亿元 (4 decimals) once the largest amount reaches 1 亿元, else 万元 (2 decimals)
  (``money_unit`` for the name and divisor, ``unit_for`` for the ``MoneyUnit``).
- Rounding: half up (四舍五入) on whole 元 (``round_half_up``), so every page, the brief and the slides
  show the same digits.
- Parts of a total: rounding each part on its own can leave the parts one unit off their rounded total;
  ``rounded_parts`` rounds by the largest-remainder method instead: every part is within one unit of its
  exact value and the parts sum exactly to the rounded total (``money_columns``, ``with_total``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

YUAN_PER_WAN = 10_000
YUAN_PER_YI = 100_000_000


def money_unit(yuan_values) -> tuple[str, int]:
    """Pick 亿元 when the largest amount reaches 1 亿元, else 万元."""
    largest = max((abs(v) for v in yuan_values if v is not None), default=0)
    return ("亿元", YUAN_PER_YI) if largest >= YUAN_PER_YI else ("万元", YUAN_PER_WAN)


def round_half_up(yuan: int, step: int) -> int:
    """``yuan`` ÷ ``step`` rounded to the nearest whole, halves away from zero (四舍五入)."""
    q, r = divmod(abs(int(yuan)), step)
    q += 1 if 2 * r >= step else 0
    return q if yuan >= 0 else -q


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
        return f"%.{self.digits}f"

    def value(self, yuan) -> float | None:
        """One amount on its own, rounded to the digits shown."""
        if yuan is None or (isinstance(yuan, float) and yuan != yuan):
            return None
        return round(round_half_up(int(yuan), self.step) * self.step / self.divisor, self.digits)

    def text(self, yuan, with_unit: bool = True, sep: str = " ") -> str:
        """'1,234.57 万元' (the pages); ``sep=""`` writes it as the reports do: '1,234.57万元'."""
        v = self.value(yuan)
        if v is None:
            return "—"
        s = f"{v:,.{self.digits}f}"
        return f"{s}{sep}{self.name}" if with_unit else s


def unit_for(*yuan_values) -> MoneyUnit:
    """亿元 (4 decimals) once the largest amount reaches 1 亿元, else 万元 (2 decimals)."""
    name, divisor = money_unit([v for v in yuan_values if v is not None])
    return MoneyUnit(name, divisor, 4 if name == "亿元" else 2)


def rounded_parts(values, unit: MoneyUnit, total: int | None = None) -> list[float]:
    """``values`` (元) in ``unit``, rounded so that they sum to the rounded ``total`` (default: their sum)."""
    ints = [int(v) for v in values]
    if not ints:
        return []
    step = unit.step
    target_total = sum(ints) if total is None else int(total)
    target = round_half_up(target_total, step)
    floors = [v // step for v in ints]
    rest = target - sum(floors)
    order = sorted(range(len(ints)), key=lambda i: (-(ints[i] - floors[i] * step), i))
    units = list(floors)
    if rest >= 0:
        for i in order[:rest]:
            units[i] += 1
    else:  # only when an explicit total is below the parts' sum
        for i in reversed(order[rest:]):
            units[i] -= 1
    return [round(u * step / unit.divisor, unit.digits) for u in units]


def money_columns(df: pd.DataFrame, columns: list[str], unit: MoneyUnit) -> pd.DataFrame:
    """Columns of 元 turned into ``unit``, each column rounded to add up to its own total."""
    out = df.copy()
    for c in columns:
        mask = out[c].notna()
        values = [int(v) for v in out.loc[mask, c]]
        col = pd.Series([None] * len(out), index=out.index, dtype="object")
        col[mask] = rounded_parts(values, unit)
        out[c] = pd.to_numeric(col)
    return out


def with_total(df: pd.DataFrame, label_col: str, money_cols: list[str], unit: MoneyUnit,
               label: str = "合计", rate_cols: dict[str, tuple[str, str]] | None = None,
               extra: dict | None = None) -> pd.DataFrame:
    """``df`` (money in 元) in ``unit`` with a 合计 row; parts add up to the total shown.

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
