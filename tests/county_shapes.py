"""A demo database made to look like a real county's region tree (shared by the map and name tests).

``officialise(url)`` rewrites the region names of a (writable copy of a) demo database the way the
statistical region tree names them — 木峰村 becomes 木峰村村民委员会, the first village of each township
becomes a community (…社区居民委员会), the second a 村委会 without the doubled 村 — and, with
``strip_geometry``, removes every boundary and centre point, as in a county imported from its registry
with no boundary file. Returns {code: official name} of the villages.
"""

from __future__ import annotations

from sqlalchemy import text

from data_access.db import bump_data_version, get_engine


def official(name: str, i: int) -> str:
    stem = name[:-1] if name.endswith("村") else name
    if i == 0:
        return f"{stem}社区居民委员会"
    if i == 1:
        return f"{stem}村委会"
    return f"{stem}村村民委员会"


def officialise(url: str, strip_geometry: bool = True) -> dict[str, str]:
    engine = get_engine(url)
    names: dict[str, str] = {}
    with engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT code, name, parent_code FROM region WHERE level = 'village' ORDER BY code")).all()
        seen: dict[str, int] = {}
        for code, name, parent in rows:
            i = seen.get(parent, 0)
            seen[parent] = i + 1
            names[code] = official(name, i)
            conn.execute(text("UPDATE region SET name = :n WHERE code = :c"), {"n": names[code], "c": code})
        if strip_geometry:
            conn.execute(text("UPDATE region SET geometry = NULL, lon = NULL, lat = NULL"))
        bump_data_version(conn)
    return names


def demo_with(url: str, scale: str, seed: int, **changes) -> None:
    """A demo database of ``scale`` with its ``ScaleSpec`` fields ``changes`` (towns=8, counties=22...)."""
    import dataclasses

    from data_access.demo import common, generate

    saved = dict(common.SCALES)
    try:  # generate() reads the same dict
        common.SCALES[scale] = dataclasses.replace(common.SCALES[scale], **changes)
        generate.generate(get_engine(url), scale=scale, seed=seed)
    finally:
        common.SCALES.clear()
        common.SCALES.update(saved)


def real_shaped_county(url: str, seed: int = 5) -> dict[str, str]:
    """A demo county the size of 赫章县 (30 乡镇, 481 村/社区, ~40,000 registered households) with official
    names and no geometry, for trying the maps by hand and for screenshots (not used by the fast tests):
    ``python -m tests.county_shapes sqlite:////tmp/real.db``. The codes stay the demo's (镇 1xx, 乡 2xx,
    村 2xx): the maps group villages by the first 9 digits only."""
    demo_with(url, "county", seed, towns=30, villages=481, households=40_000, half_extent_km=(55.0, 45.0))
    return officialise(url)


def many_townships(url: str, towns: int = 8, seed: int = 7) -> None:
    """The small demo county with ``towns`` townships (3 villages each, 150 households per township): enough
    regions for a projector chart's six bars, generated in about two seconds."""
    demo_with(url, "small", seed, towns=towns, villages=3 * towns, households=150 * towns)


def many_counties(url: str, counties: int = 22, seed: int = 7) -> None:
    """A province of 2 cities sharing ``counties`` small counties (2 townships, 6 villages, 60 households each):
    a city with more counties than the projector's ranking shows; about two seconds."""
    demo_with(url, "test_province", seed, cities=2, counties=counties, towns=2, villages=6, households=60)


if __name__ == "__main__":
    import sys

    print(len(real_shaped_county(sys.argv[1])), "villages")
