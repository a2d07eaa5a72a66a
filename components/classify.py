"""Map classes: the rules live in ``data_access.classify`` (shared with the slide map)."""

from data_access.report.classify import METHODS, Classes, classify, jenks_breaks, palette, quantile_breaks

__all__ = ["METHODS", "Classes", "classify", "jenks_breaks", "palette", "quantile_breaks"]
