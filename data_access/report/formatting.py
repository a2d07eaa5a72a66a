"""Number formatting the way the reports write it: 户, 人, %, 万元/亿元.

One set of rules for the pages and the meeting brief and slides (``data_access.report.brief``/``slides``),
so a figure reads the same everywhere. Money follows ``report.money`` (unit, half-up rounding).

Every rounding is 四舍五入 (half up, halves away from zero): ``half_up`` and ``number``. Python's ``round`` and
format specs (``f"{x:.0f}"``) round half to even (5,286.5 → 5,286) and pandas' ``.round`` likewise; do not use
them for a figure shown. A float is rounded as it reads (``repr``: 2.675 → 2.68), an int or Decimal exactly."""

from __future__ import annotations

import operator
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np

from .money import YUAN_PER_WAN, YUAN_PER_YI, MoneyUnit, unit_for


def _decimal(x) -> Decimal:
    if isinstance(x, Decimal):
        return x
    if isinstance(x, Fraction):
        return Decimal(x.numerator) / Decimal(x.denominator)
    if isinstance(x, int):
        return Decimal(x)
    return Decimal(repr(float(x)))  # numpy numbers too


def half_up(x, digits: int = 0) -> float | None:
    """``x`` rounded to ``digits`` decimals, halves away from zero (四舍五入); None for None/NaN."""
    if x is None or x != x:
        return None
    return float(_decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def half_up_all(values, digits: int = 0) -> list[float | None]:
    """``half_up`` of each value (a column for a table)."""
    return [half_up(v, digits) for v in values]


def number(x, digits: int = 0, unit: str = "") -> str:
    """5286.5 -> '5,287'; 302.5 -> '303' (四舍五入, thousands separators); '—' for None/NaN."""
    v = half_up(x, digits)
    if v is None:
        return "—"
    return f"{v:,.{digits}f}{' ' + unit if unit else ''}"


def _whole(x) -> int | None:
    """``x`` as an int when it is a whole number (int, numpy int, 3.0, Decimal 3), else None."""
    try:
        return operator.index(x)  # int, numpy integer
    except TypeError:
        pass
    try:
        i = int(x)
    except (TypeError, ValueError, OverflowError):
        return None
    return i if i == x else None


def ratio(numerator, denominator, digits: int = 2, scale: int = 1) -> float | None:
    """numerator × ``scale`` ÷ denominator, rounded half up once from the exact quotient; None when no base."""
    if not denominator or denominator != denominator or numerator is None or numerator != numerator:
        return None
    n, d = _whole(numerator), _whole(denominator)
    if n is not None and d is not None:  # counts: exact integer arithmetic (fast; pct runs per village row)
        num = n * scale * 10 ** digits
        q, r = divmod(abs(num), abs(d))
        if 2 * r >= abs(d):
            q += 1
        return (-q if (num < 0) != (d < 0) else q) / 10 ** digits
    try:
        exact = Fraction(_decimal(numerator)) * scale / Fraction(_decimal(denominator))
    except (ValueError, ArithmeticError):
        return None
    return half_up(exact, digits)


def ratios(numerators, denominators, digits: int = 2, scale: int = 1) -> list[float | None]:
    """``ratio`` of each pair of integer counts (two equal-length integer arrays), as a list: for non-negative
    counts the same half-up integer arithmetic at once in numpy (⌊(2·n·scale·10^digits + d) ÷ 2d⌋ ÷ 10^digits,
    the same float), else pair by pair. For tens of thousands of rates (a province's 帮扶单位 trend)."""
    numerator, denominator = np.asarray(numerators, dtype="int64"), np.asarray(denominators, dtype="int64")
    step = 10 ** digits
    if not len(numerator) or numerator.min() < 0 or denominator.min() < 0 or \
            int(numerator.max()) * scale * step * 2 >= 2 ** 62:
        return [ratio(int(a), int(b), digits, scale) for a, b in zip(numerator, denominator)]
    base = np.where(denominator > 0, denominator, 1)
    values = ((2 * numerator * scale * step + base) // (2 * base) / step).tolist()
    return [v if d > 0 else None for v, d in zip(values, denominator.tolist())]


def ratio_pct(numerator, denominator, digits: int = 2) -> float | None:
    """numerator ÷ denominator as a percentage, rounded half up once (``ratio`` × 100)."""
    return ratio(numerator, denominator, digits, 100)


def count(n, unit: str = "") -> str:
    """25012 -> '25,012' (with the unit appended when given)."""
    if n is None:
        return "—"
    text = f"{int(n):,}"
    return f"{text} {unit}".strip()


def percent(p, digits: int = 2) -> str:
    """A percentage from ``queries.common.pct`` (already rounded to 2 decimals). Fewer digits would round a
    second time (4.2547 → 4.25 → 4.2, where the figure is 4.3), so they are refused."""
    if digits < 2:
        raise ValueError("百分比按 2 位小数显示:pct() 已四舍五入到 2 位,再舍到 1 位会二次舍入出错")
    if p is None or p != p:
        return "—"
    return f"{half_up(p, digits):.{digits}f}%"


def share(numerator, denominator, digits: int = 0) -> str:
    """numerator ÷ denominator as a percentage, rounded once (for short chart labels like "87%")."""
    v = ratio_pct(numerator, denominator, digits)
    return "—" if v is None else f"{v:.{digits}f}%"


def money(yuan, unit: str | None = None, digits: int | None = None) -> str:
    """Amount in 元 shown in 万元 (2 decimals) or 亿元 (4 decimals), unit included, rounded half up
    (四舍五入) on the whole 元: ``report.money.MoneyUnit.text``, so every page shows the same digits."""
    if yuan is None or yuan != yuan:
        return "—"
    unit = unit or unit_for(yuan).name
    digits = digits if digits is not None else (4 if unit == "亿元" else 2)
    return MoneyUnit(unit, YUAN_PER_YI if unit == "亿元" else YUAN_PER_WAN, digits).text(yuan)


def signed(n, digits: int = 0) -> str | None:
    """A change from last year: '+12', '-3', '+0.50'. None when not applicable."""
    if n is None or n != n:
        return None
    return f"{half_up(n, digits):+,.{digits}f}"
