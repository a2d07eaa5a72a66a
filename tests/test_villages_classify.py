"""Classed colours for the map: quantile and natural breaks, checked by hand, by brute force and (natural
breaks, now computed by jenkspy) against the pure-Python Fisher–Jenks it replaced."""

from __future__ import annotations

import itertools
import math
import random

from hypothesis import given
from hypothesis import strategies as st

from data_access.report.classify import _bounds, _missing, classify, jenks_breaks, palette, quantile_breaks
from data_access.report.palette import SEQUENTIAL


def sse(groups):
    total = 0.0
    for g in groups:
        m = sum(g) / len(g)
        total += sum((x - m) ** 2 for x in g)
    return total


def brute_force_jenks(xs, k):
    """Lowest within-class squared deviation over every split of the sorted values into k runs."""
    xs = sorted(xs)
    best = None
    for cuts in itertools.combinations(range(1, len(xs)), k - 1):
        bounds = (0, *cuts, len(xs))
        groups = [xs[a:b] for a, b in zip(bounds, bounds[1:])]
        cost = sse(groups)
        if best is None or cost < best - 1e-9:
            best = cost
    return best


def hand_written_jenks(values, k):
    """The O(k·n²) pure-Python Fisher–Jenks the product used before jenkspy (the oracle, verbatim)."""
    xs = sorted(v for v in values if not _missing(v))
    if not xs:
        return []
    k = max(1, min(k, len(set(xs))))
    if k == 1:
        return [xs[0], xs[-1]]
    n = len(xs)
    # lower[i][j]: first index (1-based) of the last class in the best j-class split of xs[:i]
    lower = [[0] * (k + 1) for _ in range(n + 1)]
    cost = [[math.inf] * (k + 1) for _ in range(n + 1)]
    for j in range(1, k + 1):
        lower[1][j] = 1
        cost[1][j] = 0.0
    for i in range(2, n + 1):
        s1 = s2 = 0.0
        w = 0
        for m in range(1, i + 1):
            low = i - m + 1
            x = xs[low - 1]
            s1 += x
            s2 += x * x
            w += 1
            var = s2 - s1 * s1 / w
            if low > 1:
                for j in range(2, k + 1):
                    c = var + cost[low - 1][j - 1]
                    if c <= cost[i][j]:
                        lower[i][j] = low
                        cost[i][j] = c
        lower[i][1] = 1
        cost[i][1] = var
    bounds = [0.0] * (k + 1)
    bounds[k] = xs[-1]
    bounds[0] = xs[0]
    end = n
    for j in range(k, 1, -1):
        start = lower[end][j] - 1
        bounds[j - 1] = xs[start - 1]
        end = start
    return _bounds(bounds[0], bounds[1:])


def oracle_inputs():
    rng = random.Random(20240611)
    cases = [([], 5), ([None, float("nan")], 3), ([7], 5), ([3, 3], 5), ([3, 3, 3, 4], 5), ([0, 2, 3], 3),
             ([1, 1, 2, 2, 10, 11, 12, 30, 31, 50], 4), ([0.1, 0.2, 0.30000000000000004, 0.3], 3),
             ([5, None, 5, float("nan"), 1], 2), ([2.5, 2.5, 2.5], 1), (list(range(100)), 7)]
    for _ in range(1500):
        n, k = rng.randint(1, 60), rng.randint(1, 9)
        pick = rng.random()
        if pick < 0.3:
            values = [rng.randint(0, 12) for _ in range(n)]  # counts with many ties
        elif pick < 0.6:
            values = [round(rng.uniform(0, 100), 2) for _ in range(n)]  # rates
        elif pick < 0.8:
            values = [rng.choice([0, 0, 1, 2, 5, 5, 100, 3.5, -4]) for _ in range(n)]
        else:
            values = [rng.lognormvariate(5, 2) for _ in range(n)]  # money per person, skewed
        if rng.random() < 0.2:
            values += [None, float("nan")][:rng.randint(1, 2)]
            rng.shuffle(values)
        cases.append((values, k))
    return cases


def test_jenks_equals_the_hand_written_algorithm():
    for values, k in oracle_inputs():
        got = jenks_breaks(values, k)
        assert got == hand_written_jenks(values, k), (values, k)
        assert [type(b) for b in got] == [type(b) for b in hand_written_jenks(values, k)], (values, k)


def test_quantile_by_hand():
    assert quantile_breaks(list(range(1, 11)), 5) == [1, 2, 4, 6, 8, 10]
    assert quantile_breaks([0, 0, 0, 0, 5], 4) == [0, 0, 5]  # ties merge classes; 0 keeps a class of its own
    assert quantile_breaks([], 5) == []
    assert quantile_breaks([3, 3], 5) == [3, 3]


def test_jenks_by_hand():
    assert jenks_breaks([1, 1, 2, 2, 10, 11, 12, 30, 31, 50], 4) == [1, 2, 12, 31, 50]
    assert jenks_breaks([0, 2, 3], 3) == [0, 0, 2, 3]


@given(st.lists(st.integers(0, 60), min_size=3, max_size=9), st.integers(2, 4))
def test_jenks_is_optimal(xs, k):
    breaks = jenks_breaks(xs, k)
    k_used = len(breaks) - 1
    if len(set(xs)) < k:
        return
    groups = [[x for x in xs if (i == 0 or breaks[i] < x) and x <= breaks[i + 1]] for i in range(k_used)]
    assert sum(len(g) for g in groups) == len(xs)
    assert abs(sse([g for g in groups if g]) - brute_force_jenks(xs, k_used)) < 1e-6


@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=60), st.integers(1, 7),
       st.sampled_from(["quantile", "jenks"]), st.booleans())
def test_every_value_gets_one_class(values, k, method, worse_high):
    cls = classify(values, k, method, unit="%", digits=2, higher_is_worse=worse_high)
    assert list(cls.breaks) == sorted(cls.breaks)
    assert sum(cls.counts) == len(values)
    assert len(cls.colors) == len(cls.labels) == len(cls.counts) == len(cls.breaks) - 1
    for v in values:
        i = cls.index(v)
        assert i is not None and cls.breaks[i] <= v or i == 0
        assert v <= cls.breaks[i + 1]
    assert cls.index(float("nan")) is None and cls.index(None) is None
    dark = SEQUENTIAL[-1]
    assert (cls.colors[-1] == dark) == (worse_high and len(cls.colors) > 0) or len(cls.colors) == 1


def test_labels_and_palette():
    cls = classify([0, 0, 1, 2, 3, 5, 8, 13, 21, 40], 4, "quantile", unit="人")
    assert cls.labels[0].startswith("0 – ") and cls.labels[0].endswith(" 人")
    # integer classes do not overlap: the next class starts one above the previous upper bound
    uppers = [int(label.split("–")[-1].split()[0]) for label in cls.labels]
    lowers = [int(label.split("–")[0].strip().split()[0]) for label in cls.labels[1:]]
    assert all(lo == up + 1 for lo, up in zip(lowers, uppers))
    assert palette(5) == SEQUENTIAL and palette(5, reverse=True) == SEQUENTIAL[::-1]
    assert palette(3) == [SEQUENTIAL[0], SEQUENTIAL[2], SEQUENTIAL[4]]
