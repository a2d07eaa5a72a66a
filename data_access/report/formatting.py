"""Number formatting the way the reports write it: 户, 人, %, 万元/亿元.

One set of rules for the pages and the meeting brief and slides (``data_access.report.brief``/``slides``),
so a figure reads the same everywhere. Money follows ``report.money`` (unit, half-up rounding)."""

from __future__ import annotations

from .money import YUAN_PER_WAN, YUAN_PER_YI, MoneyUnit, unit_for


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
    if p is None:
        return "—"
    return f"{p:.{digits}f}%"


def share(numerator, denominator, digits: int = 0) -> str:
    """numerator ÷ denominator as a percentage, rounded once (for short chart labels like "87%")."""
    if not denominator or numerator is None or numerator != numerator:
        return "—"
    return f"{100.0 * float(numerator) / float(denominator):.{digits}f}%"


def money(yuan, unit: str | None = None, digits: int | None = None) -> str:
    """Amount in 元 shown in 万元 (2 decimals) or 亿元 (4 decimals), unit included, rounded half up
    (四舍五入) on the whole 元: ``report.money.MoneyUnit.text``, so every page shows the same digits."""
    if yuan is None or yuan != yuan:
        return "—"
    unit = unit or unit_for(yuan).name
    digits = digits if digits is not None else (4 if unit == "亿元" else 2)
    return MoneyUnit(unit, YUAN_PER_YI if unit == "亿元" else YUAN_PER_WAN, digits).text(round(yuan))


def signed(n, digits: int = 0) -> str | None:
    """A change from last year: '+12', '-3', '+0.50'. None when not applicable."""
    if n is None:
        return None
    return f"{n:+,.{digits}f}"
