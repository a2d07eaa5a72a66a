"""The summary tables (汇总表): their layout, their freshness and the readers the queries use.

See ``data_access.summary`` for what each table holds and when it is used; ``refresh`` (in
``summary.refresh``) rebuilds them. This module reads the registry's meta versions and hands a query
the table that answers it (or None / the base table): it imports no query and no rule.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Index, Integer, MetaData, String, Table, func, literal, select
from sqlalchemy.engine import Engine

from .. import schema
from ..codes import REGION_LEVEL_DIGITS
from ..scope import Scope

SUMMARY_KEY = "summary_version"
# The tables' layout: bump when a table or column is added or changed. A database summarised by another
# layout counts as not summarised (base tables) until ``refresh`` runs with this program.
LAYOUT = "8"
LAYOUT_KEY = "summary_layout"

metadata = MetaData()
CODE = String(12)


def _member_columns():
    """Change rows (``rules.members_at``): households 0, member_count 0, member_change people who were
    members only from member_from (NULL: always) until member_to (NULL: still); 0 on household rows."""
    return [
        Column("member_from", Integer),
        Column("member_to", Integer),
        Column("member_change", Integer, nullable=False),
    ]


def _state_columns():
    return [
        Column("kind", String(16), nullable=False),
        Column("identified_year", Integer),
        Column("exit_year", Integer),
        Column("returned_year", Integer),
    ]


household_summary = Table(
    "summary_household", metadata,
    Column("county_code", CODE, nullable=False),
    Column("town_code", CODE, nullable=False),
    Column("village_code", CODE, nullable=False),
    *_state_columns(),
    Column("households", Integer, nullable=False),
    Column("member_count", Integer, nullable=False),
    *_member_columns(),
)

cause_summary = Table(
    "summary_household_cause", metadata,
    Column("county_code", CODE, nullable=False),
    *_state_columns(),
    Column("main_cause", String(16)),
    Column("attribute", String(16)),
    Column("exit_step", String(16)),
    # the year of the household's first monitoring-object identification (NULL: never), for the query
    # page's households on the books (``queries.households.on_books``: 一般农户 identified by the year's end)
    Column("watched_year", Integer),
    Column("households", Integer, nullable=False),
    Column("member_count", Integer, nullable=False),
    *_member_columns(),
)

other_cause_summary = Table(
    "summary_other_cause", metadata,
    Column("county_code", CODE, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("identified_year", Integer),
    Column("main_cause", String(16)),
    Column("other_cause", String(16)),  # NULL: the household lists no other cause
    Column("households", Integer, nullable=False),
    Column("member_count", Integer, nullable=False),
    *_member_columns(),
)

# 入户率 of the village map (``queries.villages.indicators``) per village and year, for the periods
# ``villages.visit_period(year, as_of)`` with as_of = meta.data_as_of at refresh time (kept in
# meta.summary_visit_as_of); only villages with an assigned household have a row.
village_visit_summary = Table(
    "summary_village_visit", metadata,
    Column("village_code", CODE, nullable=False),
    Column("year", Integer, nullable=False),
    Column("assigned_households", Integer, nullable=False),
    Column("visited_households", Integer, nullable=False),
)
# Each household's latest income record up to the as-of year (meta.summary_income_year): the
# "最新年人均纯收入" of the income lists (exits.near_line, monitoring.income_warnings/health_warnings)
# without a correlated MAX(year) over 24 million income rows. Households without income then: no row.
latest_income_summary = Table(
    "summary_latest_income", metadata,
    Column("hh_id", String(32), primary_key=True),
    Column("village_code", CODE, nullable=False),  # the household's (for a scope without a join)
    Column("year", Integer, nullable=False),
    Column("per_capita_net", schema.income.c.per_capita_net.type, nullable=False),
    *_state_columns(),  # the household's registry state columns and size, for counting without a join
    Column("member_count", Integer, nullable=False),
    Column("members_year_end", Integer, nullable=False),  # members at the end of that year (rules.members_at)
)
INCOME_YEAR_KEY = "summary_income_year"

# People who matter to the health warning (患有大病/残疾) and the 两不愁三保障 check (no basic medical
# insurance; 非在校生 born from PERSON_FROM_YEAR − 15 on, i.e. possibly of compulsory-school age in a
# year from PERSON_FROM_YEAR), per household, village and birth year (NULL unless such a child).
person_summary = Table(
    "summary_person", metadata,
    Column("hh_id", String(32), nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("birth_year", Integer),
    Column("ill", Integer, nullable=False),
    Column("disabled", Integer, nullable=False),
    Column("nonschool", Integer, nullable=False),
    Column("uninsured", Integer, nullable=False),
)
PERSON_FROM_KEY = "summary_person_from_year"

# Households assigned (any time) per cadre and village, for the query page's cadre picker. Summing
# villages gives the cadre's distinct households only while no cadre–household pair spans two
# villages; refresh checks that and records it in meta.summary_helper_exact ("1" or "0").
helper_summary = Table(
    "summary_helper_village", metadata,
    Column("helper_id", String(32), nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("households", Integer, nullable=False),
)
HELPER_EXACT_KEY = "summary_helper_exact"

# 帮扶措施 per county, year and measure: households reached (distinct), records, amount. Summing
# counties gives the distinct households of a larger scope only while no household has the same
# measure in the same year in two counties; refresh checks that (meta.summary_measure_exact).
measure_summary = Table(
    "summary_measure", metadata,
    Column("county_code", CODE, nullable=False),
    Column("year", Integer, nullable=False),
    Column("measure", String(16), nullable=False),
    Column("households", Integer, nullable=False),
    Column("measures", Integer, nullable=False),
    Column("amount", schema.help_measure.c.amount.type, nullable=False),
)
MEASURE_EXACT_KEY = "summary_measure_exact"

# "措施是否对症" (queries.help.cause_match): registered households by county, state columns and main
# cause with the first year they had a measure matching the cause (NULL: never), and with each year
# they had one.
cause_match_summary = Table(
    "summary_cause_match", metadata,
    Column("county_code", CODE, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("identified_year", Integer),
    Column("main_cause", String(16), nullable=False),
    Column("first_year", Integer),
    Column("households", Integer, nullable=False),
)
cause_match_year_summary = Table(
    "summary_cause_match_year", metadata,
    Column("county_code", CODE, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("identified_year", Integer),
    Column("main_cause", String(16), nullable=False),
    Column("year", Integer, nullable=False),
    Column("households", Integer, nullable=False),
)
SERIOUS_HEALTH = ("患有大病", "残疾")  # = queries.monitoring.SERIOUS_HEALTH
NOT_IN_SCHOOL = "非在校生"
# 入户率 and the help force (queries.help.visit_rates) per town and 帮扶单位 for the periods the help
# page opens with at the as-of date (near 90 days, the one before, the 12 month-end windows, each
# year's period), in meta.summary_help_windows. unit_id NULL rows: distinct households over all units.
# Summing towns is exact only while no household is assigned in two villages, no cadre in two towns
# and every home visit lies in the town of the household's assignment (meta.summary_help_exact).
help_window_summary = Table(
    "summary_help_window", metadata,
    Column("county_code", CODE, nullable=False),
    Column("town_code", CODE, nullable=False),
    Column("unit_id", String(32)),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("assigned_households", Integer, nullable=False),
    Column("visited_households", Integer, nullable=False),
    Column("cadres", Integer, nullable=False),
    Column("assignments", Integer, nullable=False),
)
# The same per county (summed over its towns, exact under the same condition): 160,000 rows at province scale
# instead of 1.9 million, for a county or larger scope in total or by unit, and for the cities or counties of
# a province or city (the towns of a county are read from summary_help_window).
help_window_county_summary = Table(
    "summary_help_window_county", metadata,
    Column("county_code", CODE, nullable=False),
    Column("unit_id", String(32)),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("assigned_households", Integer, nullable=False),
    Column("visited_households", Integer, nullable=False),
    Column("cadres", Integer, nullable=False),
    Column("assignments", Integer, nullable=False),
)
# First and last visit date (any kind) per county, for the help page's header (queries.help.visit_span).
visit_span_summary = Table(
    "summary_visit_span", metadata,
    Column("county_code", CODE, nullable=False),
    Column("first_date", Date, nullable=False),
    Column("last_date", Date, nullable=False),
)
# The help page's "longest without a visit" lists (queries.help.households_without_visit and
# cadres_without_visit) at the as-of date the summary was built for (meta.summary_visit_as_of): each
# household assigned then, per village of its assignments there, with its first cadre and unit by name and
# its last home visit (any cadre, anywhere) up to that date; each cadre assigned then, per village, with the
# households assigned to it there and its own last home visit up to that date. Exact while no household is
# assigned at that date in two villages (meta.summary_last_visit_exact) and, for cadres, no cadre–household
# pair spans two villages (meta.summary_helper_exact).
household_last_visit_summary = Table(
    "summary_household_last_visit", metadata,
    Column("hh_id", String(32), nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("cadre", String(64)),
    Column("unit", String(128)),
    Column("last_visit", Date),
)
# 帮扶力量's "longest without a visit" list: the first 200 of ~700,000 unvisited households at province scale, never
# visited first, straight from an index in that order (PostgreSQL only: SQLite has no NULLS FIRST index and a
# county's rows sort in milliseconds), and a smaller scope's rows (and their count) by the village code.
Index("ix_summary_household_last_visit_order", household_last_visit_summary.c.last_visit.asc().nulls_first(),
      household_last_visit_summary.c.hh_id).ddl_if(dialect="postgresql")
Index("ix_summary_household_last_visit_village", household_last_visit_summary.c.village_code,
      household_last_visit_summary.c.last_visit, household_last_visit_summary.c.hh_id)
cadre_last_visit_summary = Table(
    "summary_cadre_last_visit", metadata,
    Column("helper_id", String(32), nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("households", Integer, nullable=False),
    Column("last_visit", Date),
)
LAST_VISIT_EXACT_KEY = "summary_last_visit_exact"
# 健康预警 (queries.monitoring.health_warnings) for the as-of year (meta.summary_income_year): each household
# with a current member 患有大病 or 残疾, its registry state, those members, its latest income up to that
# year (NULL: none), whether it is a monitoring object still at risk at that year's end (monitored) and
# whether it was identified as one by then (was_monitored). Exact while every current member's village is
# the household's (meta.summary_person_village_exact: the warning filters members and households by scope).
health_summary = Table(
    "summary_health", metadata,
    Column("hh_id", String(32), primary_key=True),
    Column("village_code", CODE, nullable=False),
    *_state_columns(),
    Column("ill_persons", Integer, nullable=False),
    Column("disabled_persons", Integer, nullable=False),
    Column("income_year", Integer),
    Column("per_capita_net", schema.income.c.per_capita_net.type),
    Column("monitored", Integer, nullable=False),
    Column("was_monitored", Integer, nullable=False),
)
# 防返贫监测's 健康预警 over ~800,000 households at province scale: the 200 of lowest income straight from an index
# in that order (PostgreSQL's ascending NULLS LAST, which the list wants; SQLite would put NULLs first), and a
# smaller scope's rows by the village code.
Index("ix_summary_health_order", health_summary.c.per_capita_net, health_summary.c.hh_id).ddl_if(dialect="postgresql")
Index("ix_summary_health_village", health_summary.c.village_code)
PERSON_VILLAGE_EXACT_KEY = "summary_person_village_exact"
# The 2021– headline's 脱贫户年人均纯收入 (queries.consolidation.exited_income, income_series): income records
# per county, the household's registry state and the income year, with records, members and Σ 年人均纯收入 ×
# members. The sums are floats added in another order than the base query's (the same value to about 1e-15
# relative: the whole 元 shown is the same).
income_year_summary = Table(
    "summary_income_year", metadata,
    Column("county_code", CODE, nullable=False),
    *_state_columns(),
    Column("year", Integer, nullable=False),
    Column("households", Integer, nullable=False),
    Column("persons", Integer, nullable=False),
    Column("total", schema.income.c.per_capita_net.type, nullable=False),
)
# 脱贫劳动力务工 (queries.consolidation.exited_workers): work_year rows per county (of the row's village), the
# household's registry state, year and whether the status is 务工.
work_year_summary = Table(
    "summary_work_year", metadata,
    Column("county_code", CODE, nullable=False),
    *_state_columns(),
    Column("year", Integer, nullable=False),
    Column("working", Integer, nullable=False),
    Column("persons", Integer, nullable=False),
)
WORK_KEY = "summary_work"  # "1" when work_year existed at refresh (summary_work_year holds its rows)

# 两不愁三保障 not met (queries.exits.unmet_guarantees) for the as-of year (meta.summary_income_year): each
# household with an item not met (a C/D house, unsafe water, food and clothing not assured, a current member
# aged 6–15 that year who is 非在校生, a current member without basic medical insurance), its registry state,
# size, one 0/1 column per item and the two member counts. Exact under the same condition as summary_health.
guarantee_summary = Table(
    "summary_guarantee", metadata,
    Column("hh_id", String(32), primary_key=True),
    Column("village_code", CODE, nullable=False),
    *_state_columns(),
    Column("member_count", Integer, nullable=False),
    Column("dangerous_house", Integer, nullable=False),
    Column("out_of_school", Integer, nullable=False),
    Column("no_insurance", Integer, nullable=False),
    Column("unsafe_water", Integer, nullable=False),
    Column("food_clothing", Integer, nullable=False),
    Column("children_out", Integer, nullable=False),
    Column("uninsured", Integer, nullable=False),
)
# The registry states at each year's end per village (queries.villages.indicators / child_indicators /
# yearly_states, common.yearly, overview.registry_counts, exits.progress / child_incidence / poor_villages):
# per village and year from the first identification year to the as-of year (meta.summary_village_years),
# households (户) and people (人, members at that year's end: ``rules.members_at``) in the registry, 已脱贫,
# 未脱贫, 返贫, poor (persons), 累计脱贫(含其后返贫), and the exits of that year (exit_year = year and in the
# registry then). Computed from summary_household with the same rules, so the same figures: one row a village
# and year (260,000 at province scale) instead of 1.5 million change rows to aggregate per page.
# ``common.yearly`` counts a year's exits among the households in the registry at its last year: the same
# only while no registered household exits before it is identified (meta.summary_village_exits_exact).
village_year_summary = Table(
    "summary_village_year", metadata,
    Column("county_code", CODE, nullable=False),
    Column("town_code", CODE, nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("year", Integer, nullable=False),
    *[Column(name, Integer, nullable=False) for name in (
        "registered_households", "registered_persons", "exited_households", "exited_persons",
        "not_exited_households", "not_exited_persons", "returned_households", "returned_persons", "poor_persons",
        "ever_exited_households", "ever_exited_persons", "exits_households", "exits_persons",
        # today's members (member_count) of the households not exited / returned at the year's end: the 脱贫进度
        # lists' totals count a household's people so for the as-of year (``queries.common.people_year``)
        "not_exited_members", "returned_members")],
)
# Its rows are inserted year by year: most readers want one year (the registry counts, the village frame, the
# poor villages: 20,000 of the 260,000 rows at province scale), read by this index instead of a scan. An index is
# no layout change (the same rows): a table built without it is still read, and the next refresh adds it.
Index("ix_summary_village_year_year", village_year_summary.c.year)
VILLAGE_YEARS_KEY = "summary_village_years"
VILLAGE_EXITS_EXACT_KEY = "summary_village_exits_exact"
HELP_WINDOWS_KEY = "summary_help_windows"
HELP_EXACT_KEY = "summary_help_exact"
HELP_DAYS = 90  # queries.help.DEFAULT_DAYS, the page's default
VISIT_AS_OF_KEY = "summary_visit_as_of"
VISIT_YEARS_KEY = "summary_visit_years"

# 脱贫人口's 享受政策 split of the as-of year (queries.consolidation.policy_split: today's members, the marks being
# today's) and 返贫 after 2020 without a monitoring record (returned_outside_count): households and member_count
# per county, registry state, policy_status and the first monitoring year (watched_year, as in
# summary_household_cause). No change rows: it answers today's members only.
policy_summary = Table(
    "summary_policy", metadata,
    Column("county_code", CODE, nullable=False),
    *_state_columns(),
    Column("policy_status", String(16)),
    Column("watched_year", Integer),
    Column("households", Integer, nullable=False),
    Column("member_count", Integer, nullable=False),
)

# 收入临界 (queries.exits.near_line) and 收入预警 (queries.monitoring.income_warnings) of a year Y (from the first
# identification year to the as-of year, meta.summary_near_line_years) at margins up to NEAR_LINE_COVER_PCT (the
# pages' default): summary_near_line holds, per Y, each household 已脱贫 at Y's end whose latest income up to Y is
# below the highest line of that income's year (any kind or province: at least the line a scope uses) × (1 + cover
# %), with its registry state, size and members at Y's end; summary_near_line_judged counts per county, Y and
# latest income year every household 已脱贫 at Y's end with an income up to Y (near_line's "unjudged" = exited −
# those whose income year has a line). A larger margin reads summary_latest_income (the as-of year) or the base
# tables (the LATERAL); so does near_line below the county.
NEAR_LINE_COVER_PCT = 10.0
near_line_summary = Table(
    "summary_near_line", metadata,
    Column("hh_id", String(32), nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("as_of_year", Integer, nullable=False),  # Y
    Column("year", Integer, nullable=False),  # the latest income year up to Y
    Column("per_capita_net", schema.income.c.per_capita_net.type, nullable=False),
    *_state_columns(),
    Column("member_count", Integer, nullable=False),
    Column("members_year_end", Integer, nullable=False),  # members at the end of Y (rules.members_at)
)
near_line_judged_summary = Table(
    "summary_near_line_judged", metadata,
    Column("county_code", CODE, nullable=False),
    Column("as_of_year", Integer, nullable=False),
    Column("year", Integer, nullable=False),
    Column("households", Integer, nullable=False),
)
# An index of the summaries (others: summary_village_year's year, the list orders of summary_household_last_visit
# and summary_health): a year's rows of summary_near_line (inserted in year order) are a small part of it (~8 % on
# average at province scale), read at every page that shows a 收入 list.
Index("ix_summary_near_line_year", near_line_summary.c.as_of_year)
NEAR_LINE_YEARS_KEY = "summary_near_line_years"

# 农村户籍人口 (``rules.population_year``: a village's figure of the year, else of its latest earlier year, else
# region.rural_population) summed per town (the villages' 9-digit code prefix) and year, for the years of
# meta.summary_population_years (those of summary_village_year): a county or larger scope, or a town, reads
# ~1,600 towns' rows instead of one look-up per village (20,000 at province scale). Kept only while every
# village's code is 12 digits (then a scope's villages by code range are exactly its towns' villages); else the
# key is empty and the base tables answer.
population_summary = Table(
    "summary_population", metadata,
    Column("county_code", CODE, nullable=False),
    Column("town_code", CODE, nullable=False),
    Column("year", Integer, nullable=False),
    Column("population", BigInteger, nullable=False),
)
POPULATION_YEARS_KEY = "summary_population_years"

# 帮扶措施 reaching the monitoring objects (queries.consolidation.help_coverage): per village, identified and removed
# date of a monitoring-object record and a year from the record's identification year to its removal year (the
# years it may be under monitoring, ``consolidation.monitored_in_year``) in which its household had a 帮扶措施, the
# records. The base count stays on monitoring_object (70,000 rows at province scale); this replaces an index probe
# into help_measure (34 million rows) per record.
monitoring_help_summary = Table(
    "summary_monitoring_help", metadata,
    Column("village_code", CODE, nullable=False),
    Column("identified_date", Date, nullable=False),
    Column("removed_date", Date),
    Column("year", Integer, nullable=False),
    Column("records", Integer, nullable=False),
)
Index("ix_summary_monitoring_help_year", monitoring_help_summary.c.year)

# The money of each (fund, project) pair that has a 安排 or a 拨付/支出 (queries.funds: totals, execution, execution_by,
# projects, data_problems): the arrangement's amount and counts, the movements' 拨付/支出 sums and counts and the first
# and last 拨付 date. The queries join it to fund and project as they joined arrangement and money_flow, so every
# selection (scope, year, source, category) reads the same rows; 854,000 movements become 217,000 pairs.
money_summary = Table(
    "summary_money", metadata,
    Column("fund_id", String(32), nullable=False),
    Column("project_id", String(32), nullable=False),
    Column("arranged", BigInteger, nullable=False),  # the 安排's amount (0 without one)
    Column("arrangements", Integer, nullable=False),  # 1 with a 安排 of the fund to the project, else 0
    Column("bad_arrangements", Integer, nullable=False),  # 1 when that 安排 is zero or negative
    Column("flows", Integer, nullable=False),  # 拨付/支出 movements
    Column("bad_flows", Integer, nullable=False),  # movements zero or negative
    Column("paid", BigInteger, nullable=False),
    Column("spent", BigInteger, nullable=False),
    Column("first_paid_date", Date),  # NULL: no 拨付
    Column("last_paid_date", Date),
)
Index("ix_summary_money_fund", money_summary.c.fund_id)
Index("ix_summary_money_project", money_summary.c.project_id)
# The projects with a per-project money problem (queries.funds.data_problems: 支出 over 拨付, 拨付 over 安排, 安排
# over the budget, no place, place codes that disagree, a 安排 or movement not positive, a movement without its 安排),
# with the sums over all their money (summary_money) the check reads. A project's flags depend on neither year nor
# scope, so the check tests only these few for being among the projects it checks.
money_problem_summary = Table(
    "summary_money_problem", metadata,
    Column("project_id", String(32), nullable=False),
    Column("arranged", BigInteger, nullable=False),
    Column("paid", BigInteger, nullable=False),
    Column("spent", BigInteger, nullable=False),
    Column("no_place", Integer, nullable=False),
    Column("mismatch", Integer, nullable=False),
    Column("bad_arrangements", Integer, nullable=False),
    Column("orphans", Integer, nullable=False),  # movements without a 安排 of their fund to the project
    Column("bad_flows", Integer, nullable=False),
)

# No indexes on purpose but those above (the year of summary_near_line, summary_village_year and
# summary_monitoring_help; the list orders of summary_household_last_visit and summary_health; summary_money's
# fund and project, the keys its readers join on): at province scale
# most summaries hold a few hundred thousand rows and every use aggregates a large part of them; a county's rows
# are found by a scan in milliseconds.
TABLES = (household_summary, cause_summary, other_cause_summary, village_visit_summary, latest_income_summary,
          person_summary, helper_summary, measure_summary,
          cause_match_summary, cause_match_year_summary, help_window_summary, help_window_county_summary,
          visit_span_summary, household_last_visit_summary, cadre_last_visit_summary, health_summary,
          guarantee_summary, income_year_summary, work_year_summary, village_year_summary, policy_summary,
          near_line_summary, near_line_judged_summary, population_summary, monitoring_help_summary, money_summary,
          money_problem_summary)


def fresh(conn_or_engine) -> bool:
    """True when the summaries were built from the data as it is now (meta versions equal)."""
    M = schema.meta
    stmt = select(M.c.key, M.c.value).where(M.c.key.in_(("data_version", SUMMARY_KEY, LAYOUT_KEY)))
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            values = dict(conn.execute(stmt).all())
    else:
        values = dict(conn_or_engine.execute(stmt).all())
    return _fresh(values)


def _fresh(values: dict) -> bool:
    built = values.get(SUMMARY_KEY)
    return bool(built) and built == values.get("data_version", "0") and values.get(LAYOUT_KEY) == LAYOUT


def village_visits_for(engine: Engine, year: int, as_of) -> Table | None:
    """summary_village_visit when fresh and built for this as-of date and year, else None."""
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, VISIT_AS_OF_KEY, VISIT_YEARS_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values):
        return None
    if values.get(VISIT_AS_OF_KEY) != as_of.isoformat() or not values.get(VISIT_YEARS_KEY):
        return None
    first, last = (int(x) for x in values[VISIT_YEARS_KEY].split(","))
    return village_visit_summary if first <= year <= last else None


def latest_income_for(engine: Engine, year: int) -> Table | None:
    """summary_latest_income when fresh and built for ``year`` (the as-of year), else None."""
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, INCOME_YEAR_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values):
        return None
    return latest_income_summary if values.get(INCOME_YEAR_KEY) == str(year) else None


def persons_for(engine: Engine, year: int | None = None) -> Table | None:
    """summary_person when fresh (and, for a school-age check in ``year``, built far enough back)."""
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, PERSON_FROM_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values) or not values.get(PERSON_FROM_KEY):
        return None
    if year is not None and year < int(values[PERSON_FROM_KEY]):
        return None
    return person_summary


def _values(engine: Engine, *keys: str) -> dict:
    M = schema.meta
    with engine.connect() as conn:
        return dict(conn.execute(select(M.c.key, M.c.value).where(
            M.c.key.in_(("data_version", SUMMARY_KEY, LAYOUT_KEY, *keys)))).all())


def last_visits_for(engine: Engine, on) -> tuple[Table, Table | None] | None:
    """(households, cadres) of the "longest without a visit" summaries when fresh, exact and built for the
    date ``on`` (cadres None unless the cadre–household pairs are exact too), else None."""
    values = _values(engine, VISIT_AS_OF_KEY, LAST_VISIT_EXACT_KEY, HELPER_EXACT_KEY)
    if not _fresh(values) or values.get(LAST_VISIT_EXACT_KEY) != "1":
        return None
    if values.get(VISIT_AS_OF_KEY) != on.isoformat():
        return None
    cadres = cadre_last_visit_summary if values.get(HELPER_EXACT_KEY) == "1" else None
    return household_last_visit_summary, cadres


def _as_of_year_table(engine: Engine, year: int, table: Table) -> Table | None:
    values = _values(engine, INCOME_YEAR_KEY, PERSON_VILLAGE_EXACT_KEY)
    if not _fresh(values) or values.get(PERSON_VILLAGE_EXACT_KEY) != "1":
        return None
    return table if values.get(INCOME_YEAR_KEY) == str(year) else None


def health_for(engine: Engine, year: int) -> Table | None:
    """summary_health when fresh, exact and built for ``year`` (the as-of year), else None."""
    return _as_of_year_table(engine, year, health_summary)


def incomes_for(engine: Engine, scope: Scope) -> Table | None:
    """summary_income_year for a county or larger scope when fresh, else None."""
    if REGION_LEVEL_DIGITS[scope.level] > REGION_LEVEL_DIGITS["county"] or not fresh(engine):
        return None
    return income_year_summary


def policy_for(engine: Engine, scope: Scope) -> Table | None:
    """summary_policy for a county or larger scope when fresh, else None."""
    if REGION_LEVEL_DIGITS[scope.level] > REGION_LEVEL_DIGITS["county"] or not fresh(engine):
        return None
    return policy_summary


def near_line_for(engine: Engine, scope: Scope, year: int, factor: float,
                  counts: bool = True) -> tuple[Table, Table] | None:
    """(summary_near_line, summary_near_line_judged) when they hold every household below a line × ``factor``
    at the end of ``year``: fresh, built for ``year``, ``factor`` at most 1 + NEAR_LINE_COVER_PCT % and (with
    ``counts``: the judged counts are per county) a county or larger scope; else None."""
    if float(factor) > 1.0 + NEAR_LINE_COVER_PCT / 100.0:
        return None
    if counts and REGION_LEVEL_DIGITS[scope.level] > REGION_LEVEL_DIGITS["county"]:
        return None
    values = _values(engine, NEAR_LINE_YEARS_KEY)
    if not _fresh(values) or not values.get(NEAR_LINE_YEARS_KEY):
        return None
    first, last = (int(x) for x in values[NEAR_LINE_YEARS_KEY].split(","))
    return (near_line_summary, near_line_judged_summary) if first <= int(year) <= last else None


def work_for(engine: Engine, scope: Scope) -> Table | None:
    """summary_work_year for a county or larger scope when fresh and built from a work_year table, else None."""
    if REGION_LEVEL_DIGITS[scope.level] > REGION_LEVEL_DIGITS["county"]:
        return None
    values = _values(engine, WORK_KEY)
    return work_year_summary if _fresh(values) and values.get(WORK_KEY) == "1" else None


def guarantees_for(engine: Engine, year: int) -> Table | None:
    """summary_guarantee when fresh, exact and built for ``year`` (the as-of year), else None."""
    return _as_of_year_table(engine, year, guarantee_summary)


def village_years_for(engine: Engine, years, exits: bool = False) -> Table | None:
    """summary_village_year when fresh and built for every year in ``years`` (and, with ``exits``, exact for
    ``common.yearly``'s exits of a year), else None. Village grain: it serves any scope."""
    values = _values(engine, VILLAGE_YEARS_KEY, VILLAGE_EXITS_EXACT_KEY)
    if not _fresh(values) or not values.get(VILLAGE_YEARS_KEY):
        return None
    if exits and values.get(VILLAGE_EXITS_EXACT_KEY) != "1":
        return None
    first, last = (int(x) for x in values[VILLAGE_YEARS_KEY].split(","))
    return village_year_summary if all(first <= int(y) <= last for y in years) else None


def populations_for(engine: Engine, scope: Scope, years) -> Table | None:
    """summary_population when fresh and built for every year in ``years``, for a town or larger scope; else None."""
    if REGION_LEVEL_DIGITS[scope.level] > REGION_LEVEL_DIGITS["town"]:
        return None
    values = _values(engine, POPULATION_YEARS_KEY)
    if not _fresh(values) or not values.get(POPULATION_YEARS_KEY):
        return None
    first, last = (int(x) for x in values[POPULATION_YEARS_KEY].split(","))
    return population_summary if all(first <= int(y) <= last for y in years) else None


def monitoring_help_for(engine: Engine) -> Table | None:
    """summary_monitoring_help when fresh (any scope and year), else None."""
    return monitoring_help_summary if fresh(engine) else None


def money_for(engine: Engine) -> Table | None:
    """summary_money when fresh (any scope, year and selection), else None."""
    return money_summary if fresh(engine) else None


def money_problems_for(engine: Engine) -> Table | None:
    """summary_money_problem when fresh, else None."""
    return money_problem_summary if fresh(engine) else None


def helpers_for(engine: Engine) -> Table | None:
    """summary_helper_village when fresh and exact (no cadre–household pair in two villages), else None."""
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, HELPER_EXACT_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values) or values.get(HELPER_EXACT_KEY) != "1":
        return None
    return helper_summary


def measures_for(engine: Engine, scope: Scope) -> Table | None:
    """summary_measure for a county or larger scope when fresh and exact, else None."""
    if REGION_LEVEL_DIGITS[scope.level] > REGION_LEVEL_DIGITS["county"]:
        return None
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, MEASURE_EXACT_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values) or values.get(MEASURE_EXACT_KEY) != "1":
        return None
    return measure_summary


def cause_match_for(engine: Engine, scope: Scope) -> bool:
    """Whether the cause-match summaries answer ``scope`` (a county or larger, fresh)."""
    return REGION_LEVEL_DIGITS[scope.level] <= REGION_LEVEL_DIGITS["county"] and fresh(engine)


def help_windows_for(engine: Engine, scope: Scope, periods, by: str) -> Table | None:
    """summary_help_window_county (or summary_help_window for the towns of a county) when it answers
    ``visit_rates(scope, periods, by)``: fresh and exact, every period among those built, grouped in total,
    by child region or by unit, for a county or larger."""
    if by not in ("total", "child", "unit") or REGION_LEVEL_DIGITS[scope.level] > REGION_LEVEL_DIGITS["county"]:
        return None
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, HELP_WINDOWS_KEY, HELP_EXACT_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values) or values.get(HELP_EXACT_KEY) != "1":
        return None
    have = set(values.get(HELP_WINDOWS_KEY, "").split(";"))
    if not all(f"{s.isoformat()},{e.isoformat()}" in have for s, e in periods):
        return None
    if by == "child" and REGION_LEVEL_DIGITS[scope.child_level] > REGION_LEVEL_DIGITS["county"]:
        return help_window_summary  # the towns of a county
    return help_window_county_summary


_GRAIN = {household_summary.name: "village", cause_summary.name: "county", other_cause_summary.name: "county"}


def covers(table: Table, scope: Scope, group_level: str | None = None) -> bool:
    """Whether ``table``'s place grain can restrict to ``scope`` (and group by ``group_level``)."""
    grain = REGION_LEVEL_DIGITS[_GRAIN[table.name]]
    if REGION_LEVEL_DIGITS[scope.level] > grain:
        return False
    return group_level is None or REGION_LEVEL_DIGITS[group_level] <= grain


def households_for(engine_or_conn, scope: Scope, table: Table = household_summary,
                   group_level: str | None = None) -> Table:
    """The table to read households from: ``table`` when it is fresh and fine enough, else ``household``."""
    if covers(table, scope, group_level) and fresh(engine_or_conn):
        return table
    return schema.household


def smallest_households(engine_or_conn, scope: Scope, group_level: str | None = None) -> Table:
    """The coarsest fresh summary that can answer registry states for ``scope`` grouped by
    ``group_level``: the county grain (64,000 rows at province scale), else the village grain
    (300,000), else ``household``. Only for queries that read the state columns, member_count and the
    place columns the grain has (``child_key`` for grouping)."""
    if not fresh(engine_or_conn):
        return schema.household
    for table in (cause_summary, household_summary):
        if covers(table, scope, group_level):
            return table
    return schema.household


def is_summary(h: Table) -> bool:
    return "households" in h.c


def household_count(h: Table):
    """COUNT(*) of households: SUM(households) on a summary."""
    return func.sum(h.c.households) if is_summary(h) else func.count()


def child_key(scope: Scope, h: Table):
    """``scope.child_key`` that also works on the county-grain tables (cities of a province)."""
    child = scope.child_level
    name = f"{child}_code"
    if name in h.c or "village_code" in h.c:
        return scope.child_key(h)
    digits = REGION_LEVEL_DIGITS[child]
    return func.substr(h.c.county_code, 1, digits).concat(literal("0" * (12 - digits)))
