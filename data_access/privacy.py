"""Personal data: masking ID and phone numbers (the ID-number check itself is ``rules.is_valid_id``).

Masked forms keep just enough to tell records apart on paper:
``mask_id("523199199001011234") -> "5231**********1234"``,
``mask_phone("13812345678") -> "138****5678"``.
``mask_frame`` masks a table before it is shown or exported: the columns named as
personal data, and any other text cell that is a whole ID or mobile number (record
keys such as 户编号 excepted).

A full birth date would complete a masked ID number (the county code is on every page, the
masked form shows the last 4 characters): masked roles get the birth year only
(``mask_birth``; ``mask_frame`` turns a birth-date column into a 出生年份 column).
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from .rules import ID_RE

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")

# Column names (query keys and Chinese headers) that hold ID or phone numbers.
ID_COLUMNS = frozenset({"id_number", "证件号码", "身份证号", "身份证号码", "户主证件号码"})
PHONE_COLUMNS = frozenset({
    "phone", "head_phone", "helper_phone", "联系电话", "户联系电话", "人联系电话", "手机号码",
    "帮扶责任人电话", "电话",
})
# Columns holding a full birth date: a masked role gets the year only.
BIRTH_COLUMNS = {"birth_date": "birth_year", "出生日期": "出生年份", "出生年月日": "出生年份", "出生年月": "出生年份"}
DATE_RE = re.compile(r"^\s*((?:19|20)\d\d)\s*[-/.年]?\s*\d{1,2}\s*[-/.月]?\s*\d{1,2}\s*日?\s*$")
# Record keys that may look like an ID or phone number but are not personal data.
KEY_COLUMNS = frozenset({"hh_id", "person_id", "户编号", "人编号", "code", "区划代码", "village_code",
                         "town_code", "county_code", "project_id", "项目编号"})


def mask_id(value):
    """Keep the first 4 and last 4 characters: 5231**********1234. Short values become all stars."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    text = str(value)
    if not text:
        return text
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_phone(value):
    """Keep the first 3 and last 4 digits: 138****5678. Short values become all stars."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    text = str(value)
    if not text:
        return text
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_birth(value):
    """The year of a birth date (a date, a datetime, or text such as 1990-01-31 / 19900131), else None."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, (dt.date, pd.Timestamp)):
        return int(value.year)
    if isinstance(value, (int, float)):
        text = str(int(value))
        return int(text[:4]) if len(text) == 8 else None
    match = DATE_RE.match(str(value)) or re.match(r"^\s*((?:19|20)\d\d)", str(value))
    return int(match.group(1)) if match else None


def mask_text(value):
    """Mask a cell that is, in its entirety, an ID or a mobile number; leave anything else."""
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    if ID_RE.match(stripped):
        return mask_id(stripped)
    if MOBILE_RE.match(stripped):
        return mask_phone(stripped)
    return value


def mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with personal data masked (named columns, then any whole-ID/phone text cell)."""
    out = df.copy()
    births = [c for c in out.columns if str(c) in BIRTH_COLUMNS]
    for col in births:
        out[col] = pd.array([mask_birth(v) for v in out[col]], dtype="Int64")
    out = out.rename(columns={c: BIRTH_COLUMNS[str(c)] for c in births if BIRTH_COLUMNS[str(c)] not in out.columns})
    out = out.drop(columns=[c for c in births if c in out.columns], errors="ignore")
    for col in out.columns:
        name = str(col)
        series = out[col]
        if name in ID_COLUMNS or name in PHONE_COLUMNS:
            masker = mask_id if name in ID_COLUMNS else mask_phone
            masked = series.map(masker, na_action="ignore").astype(object)
            out[col] = masked.where(masked.notna(), None)
        elif name in KEY_COLUMNS:
            continue
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[col] = series.map(mask_text, na_action="ignore")
    return out
