"""Tables as the reports write them: thousands separators in every number column (st.dataframe's own
default shows 12345), the digits the value carries (money already rounded to its unit, % to 2 decimals),
years and codes as they are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

MAX_DIGITS = 4  # 亿元 to 4 decimals (report.money.unit_for): the most a shown value carries
_AS_IS = ("年度", "年份", "编号", "代码")  # 2,026 or 5,231,991,012 would not read as a year or a code


def digits_of(values: pd.Series) -> int:
    """The fewest decimals (≤ MAX_DIGITS) that show every value of ``values`` as it is."""
    if pd.api.types.is_numeric_dtype(values):  # in numpy: to_numeric walks an Arrow-backed column value by value
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    else:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    numbers = numbers[~np.isnan(numbers)]
    for d in range(MAX_DIGITS + 1):
        scaled = numbers * 10 ** d
        if (np.abs(scaled - np.round(scaled)) < 1e-6).all():
            return d
    return MAX_DIGITS


def number_formats(df: pd.DataFrame) -> dict:
    """A NumberColumn with thousands separators for each number column of ``df`` (not years or codes)."""
    out = {}
    for name in df.columns:
        column = df[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            continue
        if str(name) == "年" or str(name).endswith(_AS_IS):
            continue
        d = 0 if pd.api.types.is_integer_dtype(column) else digits_of(column)
        out[name] = st.column_config.NumberColumn(format=f"%,.{d}f" if d else "%,d")
    return out


def dataframe(df, **kwargs):
    """``st.dataframe`` with ``number_formats`` (a column_config given by the caller wins)."""
    given = kwargs.pop("column_config", None) or {}
    if isinstance(df, pd.DataFrame):
        given = {**number_formats(df), **given}
    return st.dataframe(df, column_config=given or None, **kwargs)
