"""Masking of ID and phone numbers, and the GB 11643 check digit."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_access.privacy import mask_frame, mask_id, mask_phone
from data_access.rules import id_check_char, is_valid_id


def test_examples():
    assert mask_id("523199199001011234") == "5231**********1234"
    assert mask_id("52319919900101123X") == "5231**********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id(None) is None and mask_phone(None) is None
    assert mask_id("1234") == "****" and mask_phone("12345") == "*****" and mask_id("") == ""


def check_digit_by_hand(first17: str) -> str:
    """GB 11643-1999: weights 2^(17-i) mod 11, check = (12 - sum mod 11) mod 11, 10 written X."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_matches_the_standard(first17):
    assert id_check_char(first17) == check_digit_by_hand(first17)
    assert is_valid_id(first17 + check_digit_by_hand(first17))
    wrong = next(c for c in "0123456789X" if c != check_digit_by_hand(first17))
    assert not is_valid_id(first17 + wrong)


@pytest.mark.parametrize("text, valid", [
    ("11010519491231002X", True), ("11010519491231002x", True), ("110105194912310021", False),
    ("11010519491231002", False), ("1101051949123100211", False), ("11010519491231002Y", False), (None, False),
])
def test_known_ids(text, valid):
    assert is_valid_id(text) is valid


@given(st.text(alphabet="0123456789X", min_size=9, max_size=40))
def test_mask_id_keeps_only_the_ends(text):
    masked = mask_id(text)
    assert len(masked) == len(text) and masked[:4] == text[:4] and masked[-4:] == text[-4:]
    assert set(masked[4:-4]) <= {"*"}


def test_mask_frame_masks_named_columns_and_stray_cells():
    df = pd.DataFrame({
        "证件号码": ["523199199001011234", None], "联系电话": ["13812345678", ""],
        "备注": ["52319919900101123X", "普通文字"], "户编号": ["5231991012010001", "523199101201000101"],
        "人数(人)": [3, 4],
    })
    out = mask_frame(df)
    assert list(out["证件号码"]) == ["5231**********1234", None]
    assert out["联系电话"][0] == "138****5678"
    assert out["备注"][0] == "5231**********123X" and out["备注"][1] == "普通文字"
    assert list(out["户编号"]) == list(df["户编号"])  # record keys are not personal data
    assert list(out["人数(人)"]) == [3, 4]
    assert df["证件号码"][0] == "523199199001011234"  # the input is left alone
