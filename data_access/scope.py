"""Region scope: the part of the registry a query may see.

Every query function takes a ``Scope`` as its second argument. A scope is a
12-digit region code and its level; it turns into an indexed condition on a
table's place columns (``where``) and names the child level to group by
(``child_key``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Table, and_, func, literal

from .codes import REGION_LEVEL_DIGITS, REGION_LEVELS

_CODE_RE = re.compile(r"^[0-9]{12}\Z")


class ScopeError(ValueError):
    """A region code or level that cannot be a scope (message in Chinese)."""


def level_of_code(code: str) -> str:
    """The level a 12-digit code denotes by its trailing zeros."""
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise ScopeError(f"区划代码应为12位数字:{str(code)[:40]!r}")
    if code[6:] == "000000":
        if code[4:6] == "00":
            return "province" if code[2:4] == "00" else "city"
        return "county"
    if code[9:] == "000":
        return "town"
    return "village"


@dataclass(frozen=True)
class Scope:
    code: str
    level: str

    def __post_init__(self):
        if self.level not in REGION_LEVELS:
            raise ScopeError(f"未知的区划级别:{self.level}")
        if level_of_code(self.code) != self.level:
            raise ScopeError(f"区划代码 {self.code} 与级别 {self.level} 不符")

    @classmethod
    def of(cls, code: str) -> "Scope":
        return cls(code, level_of_code(code))

    @property
    def prefix(self) -> str:
        return self.code[: REGION_LEVEL_DIGITS[self.level]]

    @property
    def bounds(self) -> tuple[str, str]:
        """Lowest and highest 12-digit code inside the scope."""
        pad = 12 - len(self.prefix)
        return self.prefix + "0" * pad, self.prefix + "9" * pad

    @property
    def child_level(self) -> str | None:
        i = REGION_LEVELS.index(self.level)
        return REGION_LEVELS[i + 1] if i + 1 < len(REGION_LEVELS) else None

    def contains(self, code: str | None) -> bool:
        return bool(code) and code.startswith(self.prefix)

    def within(self, other: "Scope") -> bool:
        """True when this scope lies inside ``other`` (or equals it)."""
        return self.code.startswith(other.prefix)

    def where(self, table: Table):
        """Indexed condition restricting ``table`` to this scope.

        Uses the table's own column for the scope's level where it has one
        (county_code, town_code, village_code), else a range on the finest place
        column every row has (village_code, region_code or county_code): a project
        placed at a town or county has no village code, and a range on village_code
        left it out of its city and province.
        """
        cols = table.c
        own = {"county": "county_code", "town": "town_code", "village": "village_code"}.get(self.level)
        if own and own in cols:
            return cols[own] == self.code
        lo, hi = self.bounds
        present = [cols[name] for name in ("village_code", "region_code", "county_code") if name in cols]
        if not present:
            raise ScopeError(f"表 {table.name} 没有区划列,无法按范围过滤")
        col = next((c for c in present if not c.nullable), present[0])
        return and_(col >= lo, col <= hi)

    def child_key(self, table: Table):
        """Expression giving the child-region code of each row of ``table``."""
        child = self.child_level
        if child is None:
            raise ScopeError("行政村以下没有下级区划")
        name = f"{child}_code"
        if name in table.c:
            return table.c[name]
        digits = REGION_LEVEL_DIGITS[child]
        source = table.c["village_code"] if "village_code" in table.c else table.c["region_code"]
        return func.substr(source, 1, digits).concat(literal("0" * (12 - digits)))
