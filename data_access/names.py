"""Display names of places: what leaders say (香坪村, 河口社区), not the registered official name
(香坪村村民委员会, 河口社区居民委员会). No streamlit.

The statistical region tree names a village after its committee: 村民委员会 (村委会) for a village,
社区居民委员会 / 居民委员会 (居委会) for an urban community, 街道办事处 for a sub-district. On screens,
maps and slides the committee suffix is dropped; the full official name stays in the region table,
the household dossier and the exports.

``display_name(official)`` is the rule in Python; ``display_name_sql(column)`` the same rule as a SQL
expression (SQLite and PostgreSQL), so a query can select the display name where it reads the name.
Both give the same text for the same name (tests/test_names.py proves it on both backends).
"""

from __future__ import annotations

from sqlalchemy import case, func, literal

# (official ending, replacement): checked in this order, the first that matches applies. A village
# name may or may not repeat 村/社区 before the committee (香坪村村民委员会, 香坪村民委员会).
RULES: tuple[tuple[str, str], ...] = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
    ("村村民委员会", "村"),
    ("村民委员会", "村"),
    ("村村委会", "村"),
    ("村委会", "村"),
    ("街道办事处", "街道"),
)

# Endings (a suffix of the official name) whose removal, alone, gives the display name. Used by the
# boundary loader to compare names from a file with names in the registry.
OFFICIAL_SUFFIXES = tuple(ending for ending, _ in RULES)


def display_name(official) -> str:
    """The name as it is said: the committee suffix replaced (香坪村村民委员会 → 香坪村); other names as they are.

    A name that is nothing but a suffix (or empty) is returned unchanged (stripped of blanks).
    """
    if official is None:
        return ""
    text = str(official).strip()
    for ending, short in RULES:
        if text.endswith(ending) and len(text) > len(ending):
            return text[: -len(ending)] + short
    return text


def display_name_sql(column):
    """``display_name`` as a SQL expression of a name column (portable CASE / LIKE / SUBSTR / LENGTH).

    Label it where it is selected: ``display_name_sql(R.c.name).label("name")``.
    """
    whens = []
    for ending, short in RULES:
        keep = func.length(column) - len(ending)
        whens.append((column.like("%_" + ending),
                      func.substr(column, 1, keep).concat(literal(short))))
    return case(*whens, else_=column)


def match_key(name) -> str:
    """A name reduced for matching (boundary files against the registry): display name without blanks
    and the trailing 村/社区, so 香坪村村民委员会, 香坪村民委员会, 香坪村 and 香坪 all give 香坪."""
    text = "".join(display_name(name).split())
    for tail in ("社区", "村"):
        if text.endswith(tail) and len(text) > len(tail):
            return text[: -len(tail)]
    return text
