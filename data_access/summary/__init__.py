"""Summary tables (汇总表): pre-grouped households so province-wide pages read thousands of rows, not millions.

Every registry state in ``data_access.rules`` (in_registry, exited_by, not_exited_by, returned_by,
poor_at) depends only on (kind, identified_year, exit_year, returned_year), and those predicates take
the table as an argument. So a table grouped by those columns (plus the place and the few dimensions
a page groups by) with ``households`` (count) and ``member_count`` (sum) answers the same SQL:
``count_if(cond, h)`` becomes SUM(CASE WHEN cond THEN households), ``people_if(cond, h)`` stays
SUM(CASE WHEN cond THEN member_count).

Tables (standard SQL, built with INSERT … SELECT … GROUP BY, the same on SQLite and PostgreSQL):

- ``summary_household``: per village × kind × identified/exit/returned year (village grain; serves
  any scope and grouping by town or village);
- ``summary_household_cause``: per county × the states × main cause × attribute × exit step (county
  grain; serves a county or larger scope that groups by cause, attribute, status or exit step);
- ``summary_other_cause``: per county × kind × identified year × main cause × other cause (NULL for
  "no other cause"), for the cause combinations;
- ``summary_latest_income``: each household's latest income record up to the as-of year;
- ``summary_person``: per household the members who are 患有大病/残疾, uninsured, or 非在校生 children
  (by birth year), for the health warning and the 两不愁三保障 check;
- ``summary_helper_village``: households assigned per cadre and village (the query page's cadre picker);
- ``summary_measure``: 帮扶措施 per county, year and measure (households reached, records, amount);
- ``summary_cause_match`` / ``summary_cause_match_year``: households by main cause with the first year
  (and each year) they had a measure matching the cause;
- ``summary_visit_span``: first and last visit date per county;
- ``summary_help_window``: 入户率 and the help force per town and unit for the help page's default periods;
  ``summary_help_window_county``: the same summed per county (a county or larger scope, unless grouped by town);
- ``summary_village_year``: the registry states (户 and 人 at each year's end) per village and year, from the
  first identification year to the as-of year (the map, the overview's counts and yearly curves);
- ``summary_village_visit``: the village map's 入户率 (assigned and visited households) per village and
  year, for the visit periods of the as-of date the data had when it was built.
- ``summary_household_last_visit`` / ``summary_cadre_last_visit``: at the as-of date, each assigned
  household (per village, with its first cadre and unit) and each cadre (per village, with its households)
  and the last home visit up to that date: the help page's "longest without a visit" lists;
- ``summary_health``: for the as-of year, each household with a member 患有大病/残疾, its state, latest
  income and monitoring flags (防返贫监测's 健康预警);
- ``summary_guarantee``: for the as-of year, each household with a 两不愁三保障 item not met (脱贫进度);
- ``summary_income_year`` / ``summary_work_year``: income records (Σ 年人均纯收入 × 人) and 务工 rows per
  county, state and year (the 2021– headline's 脱贫户收入 and 务工);
- ``summary_policy``: households per county, state, 享受政策 mark and first monitoring year (the as-of year's
  脱贫人口 split and 返贫 after 2020 without monitoring);
- ``summary_near_line`` / ``summary_near_line_judged``: for each past year, the 已脱贫 households whose latest
  income then is near the line (up to ``NEAR_LINE_COVER_PCT`` above the highest line of its year), and the
  exited households with an income per county and income year (收入临界 of a past year at the default margin).

- ``summary_population``: 农村户籍人口 (``rules.population_year``) per town and year, for the years of
  ``summary_village_year`` (the 贫困发生率 denominators of a town or larger scope: headline, yearly curves,
  child rankings).
- ``summary_monitoring_help``: the monitoring-object records per village, identified/removed date and year in
  which their household had a 帮扶措施 (the 巩固衔接 headline's 帮扶措施覆盖).
- ``summary_money``: per (fund, project) pair with a 安排 or a movement, the 安排 and the 拨付/支出 sums, counts
  and first/last 拨付 date (资金项目's totals, execution, breakdowns, project list and data checks, joined to
  fund and project as arrangement and money_flow were).

``summary_household_cause`` also keeps each household's first monitoring year (``watched_year``), so the
query page's count of the households on the books is read from it.

Freshness: ``refresh.refresh(engine)`` rebuilds all of them and records in ``meta.summary_version`` the
``meta.data_version`` it read *before* reading the base tables. A query uses a summary only when
``summary_version == data_version`` (``fresh``): any write bumps data_version, so a stale summary is
never used and the query falls back to the base tables (slower, never wrong). Databases without the
tables (older files) have no summary_version and simply use the base tables; summaries built by a
program with another table layout (``meta.summary_layout`` != ``LAYOUT``) are not used either.

``refresh`` runs at the end of the demo generator, after a successful import, and on
``python -m data_access summarize [--db URL]``.

Modules: ``read`` (the tables, ``fresh`` and the ``*_for()`` readers the queries use) and ``refresh``
(the rebuild; it imports ``data_access.rules``, never a query).
"""
