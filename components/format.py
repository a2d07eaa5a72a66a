"""Kept only for ``components/amounts.py`` (which is moving to ``data_access/report/money.py``): every other
caller imports ``data_access.report.formatting``. Delete this file with that move."""

from data_access.report.formatting import YUAN_PER_WAN, YUAN_PER_YI, count, money, money_unit, percent, round_half_up, share, signed

__all__ = ["YUAN_PER_WAN", "YUAN_PER_YI", "count", "money", "money_unit", "percent", "round_half_up", "share",
           "signed"]
