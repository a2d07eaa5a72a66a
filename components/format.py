"""Number formatting for the pages: the rules live in ``data_access.formatting`` (shared with the brief)."""

from data_access.report.formatting import YUAN_PER_WAN, YUAN_PER_YI, count, money, money_unit, percent, round_half_up, share, signed

__all__ = ["YUAN_PER_WAN", "YUAN_PER_YI", "count", "money", "money_unit", "percent", "round_half_up", "share",
           "signed"]
