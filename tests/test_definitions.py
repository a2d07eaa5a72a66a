"""One definition per label (issue 18): each figure shown under a label is checked against independent SQL
on SQLite and PostgreSQL, at the county, a township and a village.

- 累计脱贫: households that exited in or before the year, including those that returned later (含其后返贫);
- 已脱贫: households exited and not returned at the end of the year.
"""

from __future__ import annotations

import pytest

from data_access.queries import exits, overview
from data_access.report import brief, slides
from data_access.scope import Scope
from tests.helpers import like, pick_scopes

REGISTERED = "kind = '建档立卡户' AND identified_year <= :y AND village_code LIKE :p"


@pytest.fixture(scope="module")
def places(registry_engine) -> dict[str, str]:
    return pick_scopes(registry_engine)


@pytest.mark.parametrize("year", [2018, 2026])
@pytest.mark.parametrize("which", ["county", "town", "village"])
def test_cumulative_and_exited_now(registry_engine, q, places, which, year):
    scope = Scope.of(places[which])
    p = like(scope)
    ever = q.one(f"SELECT COUNT(*), COALESCE(SUM(member_count), 0) FROM household WHERE {REGISTERED} "
                 "AND exit_year IS NOT NULL AND exit_year <= :y", y=year, p=p)
    now = q.one(f"SELECT COUNT(*), COALESCE(SUM(member_count), 0) FROM household WHERE {REGISTERED} "
                "AND exit_year IS NOT NULL AND exit_year <= :y AND (returned_year IS NULL OR returned_year > :y)",
                y=year, p=p)
    # the exit-progress page's 累计脱贫
    progress = exits.progress(registry_engine, scope, 2014, year).set_index("year")
    cumulative = (progress.loc[year, "cum_exited_households"], progress.loc[year, "cum_exited_persons"])
    assert cumulative == tuple(int(v) for v in ever)
    # the overview's, the brief's and the slides' 已脱贫; the slides' 累计脱贫
    head = overview.headline(registry_engine, scope, year)
    assert (head["exited_households"], head["exited_persons"]) == tuple(int(v) for v in now)
    assert (head["ever_exited_households"], head["ever_exited_persons"]) == tuple(int(v) for v in ever)
    facts = brief.brief_facts(registry_engine, scope, year, 2014)
    assert f"其中已脱贫{now[0]:,}户{now[1]:,}人" in brief.brief_paragraph(facts)
    said = "".join(slides.exits_lines(facts))
    assert f"累计脱贫(含其后返贫) {ever[0]:,}户{ever[1]:,}人" in said
    assert f"已脱贫 {now[0]:,}户{now[1]:,}人" in said
    if ever != now:
        assert f"累计脱贫 {now[0]:,}户" not in said
    cards = dict((label, (value, note)) for label, value, note in slides.key_figures(facts))
    assert cards["已脱贫"] == (f"{now[1]:,}人", f"{now[0]:,}户")
