"""Classed colours for choropleth maps: quantile and natural breaks (Fisher–Jenks, by jenkspy).

A classification is a list of upper bounds; class i holds values in (bound[i-1], bound[i]]
and the first class also holds the minimum. Missing values get no class (None).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import jenkspy

from .palette import SEQUENTIAL

METHODS = {"quantile": "分位数分级", "jenks": "自然断点分级"}


@dataclass(frozen=True)
class Classes:
    breaks: tuple[float, ...]  # minimum, then the upper bound of each class
    colors: tuple[str, ...]  # one per class, light (good) to dark (attention)
    labels: tuple[str, ...]  # "a – b 单位" per class
    counts: tuple[int, ...]  # values in each class

    def index(self, value) -> int | None:
        """Class of ``value`` (0-based), None when missing."""
        if _missing(value):
            return None
        for i, upper in enumerate(self.breaks[1:]):
            if value <= upper:
                return i
        return len(self.breaks) - 2

    def color(self, value) -> str | None:
        i = self.index(value)
        return None if i is None else self.colors[i]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def quantile_breaks(values: list[float], k: int) -> list[float]:
    """Breaks putting about the same number of values in each class (duplicates merged)."""
    xs = sorted(v for v in values if not _missing(v))
    if not xs:
        return []
    k = max(1, min(k, len(set(xs))))
    uppers = [xs[min(len(xs) - 1, math.ceil(i * len(xs) / k) - 1)] for i in range(1, k + 1)]
    return _bounds(xs[0], uppers)


def _bounds(minimum: float, uppers: list[float]) -> list[float]:
    """Minimum, then the class upper bounds, strictly increasing (a class may hold the minimum alone)."""
    out = [minimum]
    for upper in uppers:
        if len(out) == 1 or upper > out[-1]:
            out.append(upper)
    return out


def jenks_breaks(values: list[float], k: int) -> list[float]:
    """Fisher–Jenks natural breaks: classes minimising the within-class squared deviation.

    The optimisation is jenkspy's (compiled, the same dynamic programme and the same choice among
    equally good splits as the pure-Python one it replaced: tests/test_villages_classify.py keeps that
    one as the oracle). Missing values are left out; ``k`` is cut to the number of distinct values; the
    breaks are elements of ``values`` (their own type), minimum first, merged where equal (``_bounds``).
    """
    xs = sorted(v for v in values if not _missing(v))
    if not xs:
        return []
    k = max(1, min(k, len(set(xs))))
    if k == 1:
        return [xs[0], xs[-1]]
    floats = [float(x) for x in xs]
    found = jenkspy.jenks_breaks(floats, n_classes=k)
    bounds = [xs[bisect.bisect_left(floats, b)] for b in found]  # each break is one of the values
    return _bounds(bounds[0], bounds[1:])


def palette(k: int, reverse: bool = False) -> list[str]:
    """``k`` colours spread over the sequential palette (light -> dark, or dark -> light)."""
    n = len(SEQUENTIAL)
    if k <= 1:  # no spread to show: the light end, so that nothing looks alarming by colour alone
        picks = [SEQUENTIAL[0]]
    else:
        picks = [SEQUENTIAL[round(i * (n - 1) / (k - 1))] for i in range(k)]
    return picks[::-1] if reverse else picks


def number(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def classify(values: list[float], k: int = 5, method: str = "quantile", *, unit: str = "",
             digits: int = 0, higher_is_worse: bool = True) -> Classes:
    """Classes for ``values``. Dark colours mark the values that need attention.

    ``higher_is_worse`` False (e.g. 脱贫进度, 入户率) puts the dark colours on the low classes.
    ``digits`` is the precision shown in the labels (0 for counts).
    """
    breaks = jenks_breaks(values, k) if method == "jenks" else quantile_breaks(values, k)
    if not breaks:
        return Classes((), (), (), ())
    n_classes = len(breaks) - 1
    colors = palette(n_classes, reverse=not higher_is_worse)
    integral = digits == 0 and all(float(b).is_integer() for b in breaks) and all(
        float(v).is_integer() for v in values if not _missing(v))
    suffix = f" {unit}" if unit and unit != "%" else unit
    labels = []
    for i in range(n_classes):
        lo, hi = breaks[i], breaks[i + 1]
        if i > 0 and integral:
            lo = lo + 1
        if lo == hi or (i > 0 and integral and lo > hi):
            labels.append(f"{number(hi, digits)}{suffix}")
        elif i == 0:
            labels.append(f"{number(lo, digits)} – {number(hi, digits)}{suffix}")
        elif integral:
            labels.append(f"{number(lo, digits)} – {number(hi, digits)}{suffix}")
        else:
            labels.append(f">{number(lo, digits)} – {number(hi, digits)}{suffix}")
    classes = Classes(tuple(float(b) for b in breaks), tuple(colors), tuple(labels), ())
    counts = [0] * n_classes
    for v in values:
        i = classes.index(v)
        if i is not None:
            counts[i] += 1
    return Classes(classes.breaks, classes.colors, classes.labels, tuple(counts))
