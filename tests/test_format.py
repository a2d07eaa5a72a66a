"""Number formatting shared by every page: one rounding, the same digits everywhere."""

from __future__ import annotations

import pytest

from data_access.report import money as amounts
from data_access.report import formatting as fmt


@pytest.mark.parametrize("yuan", [0, 49, 50, 51, 12_345, 12_350, 12_349_999, 123_456_789, 99_995_000,
                                  100_000_000, 329_250_000, 329_255_000, 329_254_999, -12_350])
def test_money_rounds_half_up_like_the_funds_tables(yuan):
    unit = amounts.unit_for(yuan)
    assert fmt.money(yuan, unit.name) == unit.text(yuan)


def test_money_halves_go_up():
    assert fmt.money(10_050, "万元") == "1.01 万元"  # 1.005 万元: formatting the float 1.005 gives 1.00
    assert fmt.money(329_255_000, "亿元") == "3.2926 亿元"  # the float 3.29255 formats as 3.2925
    assert fmt.money(None) == "—" and fmt.money(float("nan")) == "—"


def test_percent_keeps_the_two_decimals_of_pct_and_refuses_a_second_rounding():
    assert fmt.percent(4.25) == "4.25%"
    assert fmt.percent(None) == "—"
    with pytest.raises(ValueError):
        fmt.percent(4.25, 1)


def test_share_rounds_the_raw_ratio_once():
    assert fmt.share(42547, 1_000_000, 1) == "4.3%"  # 4.2547 %: via a 2-decimal pct it would read 4.2 %
    assert fmt.share(1, 3) == "33%"
    assert fmt.share(5, 0) == "—" and fmt.share(None, 5) == "—"
