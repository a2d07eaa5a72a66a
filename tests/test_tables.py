"""Every number column of a table with thousands separators and the digits its values carry; years and
codes as they are (components.tables)."""

from __future__ import annotations

import pandas as pd

from components.tables import number_formats


def test_number_columns_get_separators_years_and_codes_do_not():
    df = pd.DataFrame({
        "年度": [2019, 2026], "识别年度": pd.array([2014, None], dtype="Int64"), "区划代码": [523199101201, 1],
        "人数(人)": [12_345, 7], "金额(万元)": [1234.5, 0.25], "金额(亿元)": [3.2925, 1.0], "比率(%)": [83.52, 100.0],
        "到户金额(元)": [5000.0, None], "户主": ["甲", "乙"], "逾期": [True, False],
    })
    formats = {k: v["type_config"]["format"] for k, v in number_formats(df).items()}
    assert formats == {"人数(人)": "%,d", "金额(万元)": "%,.2f", "金额(亿元)": "%,.4f", "比率(%)": "%,.2f",
                       "到户金额(元)": "%,d"}


def test_digits_are_the_same_for_every_storage_of_a_column():
    from decimal import Decimal

    from components.tables import MAX_DIGITS, digits_of

    values = [1234.5, 0.25, None, 3.2925]
    wanted = max(-Decimal(str(v)).normalize().as_tuple().exponent for v in values if v is not None)
    assert wanted == 4 <= MAX_DIGITS
    for series in (pd.Series(values), pd.Series(values, dtype="double[pyarrow]"), pd.Series(values, dtype="Float64"),
                   pd.Series(values, dtype=object), pd.Series([None if v is None else str(v) for v in values])):
        assert digits_of(series) == wanted, series.dtype
    assert digits_of(pd.Series([0.1 + 0.2, 7.0], dtype="double[pyarrow]")) == 1  # float noise is not a digit
    assert digits_of(pd.Series([1 / 3])) == MAX_DIGITS
    assert digits_of(pd.Series([], dtype="float64")) == 0
