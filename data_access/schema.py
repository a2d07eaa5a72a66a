"""The registry's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Conventions
- Region codes are 12-digit strings (统计用区划代码). Every fact row that belongs
  to a place carries ``village_code`` (or ``region_code``) and the derived
  ``town_code`` and ``county_code``, so scoping is an indexed range test and
  grouping by a child level needs no join (see ``data_access.scope``).
- Money is stored as whole 元 (BigInteger), so sums are exact.
- Coded values are stored as their Chinese labels from ``data_access.codes``.
- Years are integers; dates are ``Date``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer,
    MetaData, String, Table, Text,
)

SCHEMA_VERSION = 1

metadata = MetaData()

CODE = String(12)

# Key/value facts about the database: schema_version, data_as_of (YYYY-MM-DD),
# is_demo ("1"/"0"), data_version (bumped by every write; part of cache keys),
# county_name, province.
meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

region = Table(
    "region", metadata,
    Column("code", CODE, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("level", String(16), nullable=False),  # codes.REGION_LEVELS
    Column("parent_code", CODE, index=True),
    Column("is_poor_village", Boolean, nullable=False, default=False),
    Column("poor_village_exit_year", Integer),  # 出列年度
    Column("rural_population", Integer),  # 农村户籍人口 without a year (the figure for a year without its own)
    Column("lon", Float),
    Column("lat", Float),
    Column("geometry", Text),  # GeoJSON geometry (Polygon/MultiPolygon) as text
)
Index("ix_region_level", region.c.level, region.c.code)

household = Table(
    "household", metadata,
    Column("hh_id", String(32), primary_key=True),  # 户编号
    Column("county_code", CODE, nullable=False),
    Column("town_code", CODE, nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("natural_village", String(64)),  # 自然村 / 村民小组 (no national code)
    Column("head_name", String(64), nullable=False),
    Column("member_count", Integer, nullable=False),  # 家庭人口数 (= rows in person)
    Column("kind", String(16), nullable=False),  # codes.HOUSEHOLD_KINDS
    Column("attribute", String(16)),  # 贫困户属性
    Column("standard", String(16)),  # 识别标准
    Column("main_cause", String(16)),  # 主要致贫原因
    Column("identified_year", Integer),  # 识别年度 (null for non-registered)
    Column("exit_year", Integer),  # 脱贫年度
    Column("returned_year", Integer),  # 返贫年度
    Column("status", String(16)),  # current 脱贫状态
    Column("policy_status", String(16)),  # codes.POST2020_POLICY, exited households
    Column("exit_step", String(16)),  # codes.EXIT_STEPS: step reached in the exit procedure
    Column("relocated", Boolean, nullable=False, default=False),
    Column("relocation_year", Integer),
    Column("relocation_site", String(64)),
    Column("house_grade", String(4)),  # codes.HOUSE_GRADES
    Column("safe_water", Boolean),
    Column("food_clothing_ok", Boolean),
    Column("phone", String(20)),
)
Index("ix_household_village", household.c.village_code, household.c.kind)
Index("ix_household_town", household.c.town_code, household.c.kind)
Index("ix_household_county", household.c.county_code, household.c.kind)
Index("ix_household_exit", household.c.county_code, household.c.exit_year)

other_cause = Table(  # 其他致贫原因 (zero or more per household)
    "other_cause", metadata,
    Column("hh_id", String(32), ForeignKey("household.hh_id"), primary_key=True),
    Column("cause", String(16), primary_key=True),
)

person = Table(
    "person", metadata,
    Column("person_id", String(32), primary_key=True),  # 人编号
    Column("hh_id", String(32), ForeignKey("household.hh_id"), nullable=False, index=True),
    Column("village_code", CODE, nullable=False),
    Column("name", String(64), nullable=False),
    Column("id_number", String(18)),  # 证件号码, personal data; unique (ux_person_id_number)
    Column("relation", String(16)),
    Column("sex", String(2)),
    Column("ethnicity", String(16)),
    Column("birth_date", Date),
    Column("birth_year", Integer),
    Column("education", String(16)),
    Column("schooling", String(16)),  # 在校生状况
    Column("health", String(16)),
    Column("labour_skill", String(16)),
    Column("work_status", String(16)),
    Column("work_months", Integer),
    Column("medical_insurance", Boolean),  # 城乡居民基本医疗保险
    Column("serious_illness_insurance", Boolean),  # 大病保险
    Column("phone", String(20)),
    # Membership (rules.member_at): blank join = a member since identification, blank leave = still a member.
    Column("join_date", Date),  # 入户(增员)日期: birth, marriage in, moving in
    Column("leave_date", Date),  # 减员日期; a person who left stays here as a former member
    Column("leave_reason", String(8)),  # codes.LEAVE_REASONS
)
Index("ix_person_village", person.c.village_code)
# One person per ID number, enforced by the database (older databases get it at their next import:
# importer.locking.ensure_unique_ids). NULLs (no number) may repeat.
Index("ux_person_id_number", person.c.id_number, unique=True)

village_population = Table(  # 农村户籍人口 of a village by year (rules.population_year: a missing year)
    "village_population", metadata,
    Column("village_code", CODE, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("population", Integer, nullable=False),
)
# person.join_date/leave_date/leave_reason (ADDED_COLUMNS) and village_population came after schema version 1
# without a version change: db.upgrade_schema adds them to an older database (blank: members throughout, and
# region.rural_population for every year).

income = Table(  # yearly household income, 元
    "income", metadata,
    Column("hh_id", String(32), ForeignKey("household.hh_id"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("members", Integer, nullable=False),
    Column("wage", BigInteger, nullable=False, default=0),  # 工资性收入
    Column("business_income", BigInteger, nullable=False, default=0),  # 生产经营性收入
    Column("business_cost", BigInteger, nullable=False, default=0),  # 生产经营性支出
    Column("property_income", BigInteger, nullable=False, default=0),  # 财产性收入
    Column("transfer_income", BigInteger, nullable=False, default=0),  # 转移性收入 (counted)
    Column("transfer_excluded", BigInteger, nullable=False, default=0),  # not counted toward exit
    Column("per_capita_net", Float, nullable=False),  # 年人均纯收入
)
Index("ix_income_year", income.c.year, income.c.hh_id)

poverty_line = Table(
    "poverty_line", metadata,
    Column("year", Integer, primary_key=True),
    Column("kind", String(8), primary_key=True),  # codes.LINE_KINDS
    Column("province", String(12), primary_key=True, default=""),  # "" = national
    Column("amount", Integer, nullable=False),  # 元 per person per year
    Column("source", Text),
    Column("verified", Boolean, nullable=False, default=False),
)

exit_target = Table(  # 年度减贫任务
    "exit_target", metadata,
    Column("region_code", CODE, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("households", Integer),
    Column("persons", Integer),
    Column("villages", Integer),
)

help_unit = Table(  # 帮扶单位
    "help_unit", metadata,
    Column("unit_id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("level", String(8)),  # codes.HELP_UNIT_LEVELS
)

helper = Table(  # 帮扶责任人
    "helper", metadata,
    Column("helper_id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("unit_id", String(32), ForeignKey("help_unit.unit_id"), nullable=False, index=True),
    Column("town_code", CODE),
    Column("phone", String(20)),
)

assignment = Table(  # 结对帮扶
    "assignment", metadata,
    Column("helper_id", String(32), ForeignKey("helper.helper_id"), primary_key=True),
    Column("hh_id", String(32), ForeignKey("household.hh_id"), primary_key=True),
    Column("start_date", Date, primary_key=True),
    Column("end_date", Date),
    Column("village_code", CODE, nullable=False),
)
Index("ix_assignment_hh", assignment.c.hh_id)
Index("ix_assignment_village", assignment.c.village_code)

visit = Table(  # 走访记录
    "visit", metadata,
    Column("visit_id", Integer, primary_key=True, autoincrement=True),
    Column("helper_id", String(32), ForeignKey("helper.helper_id"), nullable=False),
    Column("hh_id", String(32), ForeignKey("household.hh_id"), nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("visit_date", Date, nullable=False),
    Column("kind", String(16)),  # codes.VISIT_KINDS
    Column("note", Text),
)
Index("ix_visit_village_date", visit.c.village_code, visit.c.visit_date)
Index("ix_visit_hh_date", visit.c.hh_id, visit.c.visit_date)
Index("ix_visit_helper_date", visit.c.helper_id, visit.c.visit_date)

help_measure = Table(  # 帮扶措施
    "help_measure", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hh_id", String(32), ForeignKey("household.hh_id"), nullable=False, index=True),
    Column("village_code", CODE, nullable=False),
    Column("year", Integer, nullable=False),
    Column("measure", String(16), nullable=False),  # codes.HELP_MEASURES
    Column("amount", BigInteger),  # 元, where the measure carries money
)
Index("ix_help_measure_village_year", help_measure.c.village_code, help_measure.c.year)

work_year = Table(  # 务工情况 by year (2021–: 脱贫劳动力务工就业), one row per labour-force person and year
    "work_year", metadata,
    Column("person_id", String(32), ForeignKey("person.person_id"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("hh_id", String(32), ForeignKey("household.hh_id"), nullable=False, index=True),
    Column("village_code", CODE, nullable=False),
    Column("work_status", String(16), nullable=False),  # codes.WORK_STATUS
    Column("work_months", Integer),
)
Index("ix_work_year_village", work_year.c.village_code, work_year.c.year)
# Added after schema version 1 without a version change: databases made before it have no such table;
# the queries that read it (queries.consolidation) answer "无分年务工数据" there.

monitoring_object = Table(  # 防返贫监测对象
    "monitoring_object", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hh_id", String(32), ForeignKey("household.hh_id"), nullable=False, index=True),
    Column("village_code", CODE, nullable=False),
    Column("kind", String(16), nullable=False),  # codes.MONITORING_KINDS
    Column("main_risk", String(16), nullable=False),  # codes.MONITORING_RISKS
    Column("identified_date", Date, nullable=False),
    Column("removed_date", Date),  # 风险消除
    Column("persons", Integer, nullable=False),
)
Index("ix_monitoring_village", monitoring_object.c.village_code, monitoring_object.c.identified_date)

monitoring_found = Table(  # 风险发现: when (and how) a monitoring object's risk was first found
    "monitoring_found", metadata,
    Column("object_id", Integer, ForeignKey("monitoring_object.id"), primary_key=True),
    Column("found_date", Date, nullable=False),  # 风险发现时间 (<= identified_date)
    Column("channel", String(16)),  # 农户自主申报 / 干部排查 / 部门筛查预警
)
# Added after schema version 1 without a version change (as work_year): where it is missing the 识别时限
# figures read "无风险发现时间数据" (queries.monitoring.lifecycle_by_region).

fund = Table(  # 资金下达 (allocation with a document number)
    "fund", metadata,
    Column("fund_id", String(32), primary_key=True),
    Column("doc_no", String(64)),  # 文号
    Column("name", String(128)),
    Column("source", String(32), nullable=False),  # codes.FUND_SOURCES
    Column("year", Integer, nullable=False),
    Column("region_code", CODE, nullable=False),  # the receiving county (or town)
    Column("county_code", CODE, nullable=False),
    Column("amount", BigInteger, nullable=False),  # 下达, 元
    Column("allocated_date", Date),
)
Index("ix_fund_county_year", fund.c.county_code, fund.c.year)

project = Table(  # 扶贫项目
    "project", metadata,
    Column("project_id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("category", String(16), nullable=False),  # codes.PROJECT_CATEGORIES
    Column("subcategory", String(16)),
    Column("region_code", CODE),  # the place: a village or a town (null = data problem)
    Column("county_code", CODE, nullable=False),
    Column("town_code", CODE),
    Column("village_code", CODE),  # null when the place is a town
    Column("year", Integer, nullable=False),
    Column("status", String(8), nullable=False),  # codes.PROJECT_STATUSES
    Column("budget", BigInteger, nullable=False),  # 元
    Column("planned_start", Date),
    Column("planned_end", Date),
    Column("actual_start", Date),
    Column("actual_end", Date),
    Column("beneficiary_households", Integer),
    Column("beneficiary_poor_households", Integer),
    Column("beneficiary_persons", Integer),
)
Index("ix_project_county_year", project.c.county_code, project.c.year)
Index("ix_project_town_year", project.c.town_code, project.c.year)
Index("ix_project_village_year", project.c.village_code, project.c.year)

arrangement = Table(  # 安排: a fund's money arranged to a project
    "arrangement", metadata,
    Column("fund_id", String(32), ForeignKey("fund.fund_id"), primary_key=True),
    Column("project_id", String(32), ForeignKey("project.project_id"), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    Column("arranged_date", Date),
)
Index("ix_arrangement_project", arrangement.c.project_id)

money_flow = Table(  # 拨付 and 支出 movements against an arrangement
    "money_flow", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fund_id", String(32), ForeignKey("fund.fund_id"), nullable=False),
    Column("project_id", String(32), ForeignKey("project.project_id"), nullable=False),
    Column("kind", String(4), nullable=False),  # codes.MONEY_KINDS
    Column("amount", BigInteger, nullable=False),
    Column("flow_date", Date, nullable=False),
)
Index("ix_money_flow_project", money_flow.c.project_id, money_flow.c.kind)
Index("ix_money_flow_fund", money_flow.c.fund_id, money_flow.c.kind)

project_beneficiary = Table(
    "project_beneficiary", metadata,
    Column("project_id", String(32), ForeignKey("project.project_id"), primary_key=True),
    Column("hh_id", String(32), ForeignKey("household.hh_id"), primary_key=True),
    Column("amount", BigInteger),  # 元 reaching this household, where known
)
Index("ix_project_beneficiary_hh", project_beneficiary.c.hh_id)

import_log = Table(
    "import_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("imported_at", DateTime, nullable=False),
    Column("user_id", String(64)),
    Column("file_name", String(255), nullable=False),
    Column("file_hash", String(64), nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("rows_written", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
    Column("dry_run", Boolean, nullable=False, default=False),
    Column("message", Text),
    # The region the run was limited to (the county for an unlimited run); a row without one is county-only.
    Column("region_code", CODE),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("user_id", String(64)),
    Column("user_name", String(64)),
    Column("action", String(32), nullable=False),  # 登录 / 导出 / 导入
    Column("scope_code", CODE),
    Column("detail", Text),
    Column("row_count", Integer),
)

# Sign-in links already used (their ``jti``): a link opens one session only. The primary key makes the
# first use win when two sessions present the same link at once. Rows past their link's expiry may go.
# Added after schema version 1 without a version change: it is created on first use where it is missing
# (data_access.auth.use_once), so databases made before it keep working.
used_token = Table(
    "used_token", metadata,
    Column("jti", String(64), primary_key=True),
    Column("user_id", String(64)),
    Column("used_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

# Columns added after schema version 1 without a version change: ``db.ensure_added_columns`` adds them to a
# database made before them (create_all only makes missing tables).
ADDED_COLUMNS = ((import_log, "region_code"), (person, "join_date"), (person, "leave_date"), (person, "leave_reason"))
