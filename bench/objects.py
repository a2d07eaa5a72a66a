"""The regions and objects every benchmark opens, read from the database (shared by run.py and naive.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from data_access import schema
from data_access.queries import places
from data_access.scope import Scope


def samples(engine) -> dict:
    """The regions and objects the benchmark opens: root, a county, a town, a village, a household, a project."""
    H, P, R = schema.household, schema.project, schema.region
    root = places.default_scope_code(engine)
    with engine.connect() as conn:
        county = root if Scope.of(root).level == "county" else conn.execute(
            select(func.min(H.c.county_code))).scalar()
        town = conn.execute(select(func.min(H.c.town_code)).where(H.c.county_code == county)).scalar()
        village = conn.execute(select(func.min(H.c.village_code)).where(H.c.town_code == town)).scalar()
        hh = conn.execute(select(func.min(H.c.hh_id)).where(H.c.village_code == village)).scalar()
        project = conn.execute(select(func.min(P.c.project_id)).where(
            P.c.county_code == county, P.c.village_code.is_not(None))).scalar()
        child = conn.execute(select(func.min(R.c.code)).where(R.c.parent_code == root)).scalar()
        first, last = places.year_range(engine, Scope.of(root))
    return {"root": root, "child": child, "county": county, "town": town, "village": village,
            "hh": hh, "project": project, "first_year": first, "last_year": last}
