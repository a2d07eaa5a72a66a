"""Classed colours for the map: quantile and natural breaks (pure Python), checked by hand and by brute force."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from data_access.report.classify import classify, jenks_breaks, palette, quantile_breaks
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
