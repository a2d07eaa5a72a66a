"""The app shell: every page renders, scope is enforced, bad links and bad databases get Chinese messages."""

import datetime as dt
import os
import sqlite3

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.shell import nav
from data_access import auth
from tests.helpers import metrics, open_page

SECRET = "shell-test-secret-shell-test-secret-0123456789abcdef"
COUNTY = "523199000000"
PAGES = [p.file for p in nav.available(is_admin=True)]


def errors(at):
    return " ".join(e.value for e in at.error)


@pytest.fixture
def signed_in(monkeypatch):
    monkeypatch.setenv("REGISTRY_AUTH_SECRET", SECRET)

    def make(region, role="工作人员"):
        return auth.make_token(SECRET, "t1", "测试用户", region, role)

    return make


@pytest.fixture
def auth_db(registry_backend, make_db):
    """A database of its own for tests whose sign-ins write to audit_log (the shared demo DB is read-only)."""
    from data_access.db import get_engine

    url = make_db("small", 11, backend=registry_backend)
    return url, get_engine(url)


def towns(engine):
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT code FROM region WHERE level='town' ORDER BY code")).scalars().all()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_the_county(registry_url, page, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    at = open_page(registry_url, page)
    assert not at.exception, at.exception
    assert not at.error, errors(at)


def test_overview_headline_matches_sql(registry_url, registry_engine, sql, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    town = towns(registry_engine)[0]
    at = open_page(registry_url, None, region=town, year=2018)
    shown = metrics(at)
    q = sql(registry_engine)
    households = q.scalar("SELECT COUNT(*) FROM household WHERE kind='建档立卡户' AND identified_year <= 2018 "
                          "AND town_code = :t", t=town)
    exited = q.scalar("SELECT COUNT(*) FROM household WHERE kind='建档立卡户' AND exit_year <= 2018 "
                      "AND (returned_year IS NULL OR returned_year > 2018) AND town_code = :t", t=town)
    assert shown["建档立卡户数(户)"] == f"{households:,}"
    assert shown["已脱贫户数(户)"] == f"{exited:,}"


def test_signed_link_limits_scope_and_clears_token(auth_db, signed_in):
    registry_url, registry_engine = auth_db
    town, other = towns(registry_engine)[:2]
    at = open_page(registry_url, None, token=signed_in(town))
    assert not at.exception
    assert "token" not in at.query_params
    assert not at.error and metrics(at)  # signed in: own township figures shown
    for target in (COUNTY, other, other[:9] + "201"):
        at2 = open_page(registry_url, None, token=signed_in(town), region=target)
        assert not at2.exception
        assert "不在本账号的数据范围" in errors(at2)
        assert not at2.metric  # no figures at all


def test_township_user_cannot_open_another_townships_household(auth_db, sql, signed_in):
    registry_url, registry_engine = auth_db
    town, other = towns(registry_engine)[:2]
    hh = sql(registry_engine).scalar("SELECT MIN(hh_id) FROM household WHERE town_code = :t", t=other)
    at = open_page(registry_url, "pages/household.py", token=signed_in(town), hh=hh)
    assert not at.exception
    assert not at.dataframe or all(hh not in str(df.value.values) for df in at.dataframe)


def test_without_valid_identity_only_no_access(registry_url, signed_in, monkeypatch):
    at = open_page(registry_url, None)
    assert "无权访问" in errors(at)
    assert not at.metric and not at.dataframe
    expired = jwt_expired()
    at = open_page(registry_url, None, token=expired)
    assert "过期" in errors(at) and not at.metric


def jwt_expired():
    import jwt

    return jwt.encode({"sub": "x", "region": COUNTY, "role": "领导",
                       "exp": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)}, SECRET, algorithm="HS256")


def test_signin_is_audited(auth_db, sql, signed_in):
    registry_url, registry_engine = auth_db
    before = sql(registry_engine).scalar("SELECT COUNT(*) FROM audit_log WHERE action = '登录'")
    open_page(registry_url, None, token=signed_in(COUNTY, "领导"))
    after = sql(registry_engine).scalar("SELECT COUNT(*) FROM audit_log WHERE action = '登录'")
    assert after == before + 1


PARAM_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["' OR 1=1 --", "523199101000'; DROP TABLE household; --", "../../etc/passwd",
                     "<script>alert(1)</script>", "9" * 12, "0" * 12, "２０１９", "-1", "1e9", "\x00", "²", "①"]),
)


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(region=PARAM_VALUES, year=PARAM_VALUES)
def test_garbage_url_parameters_give_a_message_not_a_traceback(registry_url, region, year):
    os.environ.pop("REGISTRY_AUTH_SECRET", None)
    at = open_page(registry_url, None, region=region.replace("\x00", ""), year=year.replace("\x00", ""))
    assert not at.exception


@pytest.mark.parametrize("url, expected", [
    ("sqlite:////nonexistent-dir/xyz/registry.db", "无法连接数据库"),
    ("postgresql+psycopg://nobody@127.0.0.1:1/none", "无法连接数据库"),
    ("notadb://x", "不支持的数据库类型"),
    ("::::", "数据库地址格式不正确"),
])
def test_bad_configuration_is_explained(url, expected, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    at = open_page(url, None)
    assert not at.exception
    assert expected in errors(at)


def test_empty_and_foreign_databases_are_explained(tmp_path, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    at = open_page(f"sqlite:///{empty}", None)
    assert not at.exception and "没有任何数据表" in errors(at)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '999')")
    at = open_page(f"sqlite:///{foreign}", None)
    assert not at.exception and "结构版本" in errors(at)


PAGE_PARAMS = {
    "pages/query.py": ["main_cause", "other_cause", "attribute", "status", "identified_year", "exit_year",
                       "income_min", "income_max", "line_margin", "relocated", "house", "water",
                       "monitoring_kind", "risk", "removed", "helper", "unit", "q", "sort", "page", "size", "cols"],
    "pages/household.py": ["hh"],
    "pages/project.py": ["project"],
    "pages/funds.py": ["source", "category", "view", "days"],
    "pages/causes.py": ["measure", "main_cause"],
    "pages/exits.py": ["threshold", "margin", "list"],
    "pages/monitoring.py": ["margin"],
    "pages/help.py": ["days", "period"],
    "pages/village_map.py": ["indicator", "method"],
    "pages/overview.py": ["mode", "cycle", "pages"],
}
PAGE_PARAM_PAIRS = [(page, name) for page, names in PAGE_PARAMS.items() for name in names]


@settings(max_examples=16, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pair=st.sampled_from(PAGE_PARAM_PAIRS), value=PARAM_VALUES)
@example(pair=("pages/query.py", "size"), value="²")
@example(pair=("pages/query.py", "page"), value="²")
@example(pair=("pages/query.py", "page"), value="①")
@example(pair=("pages/overview.py", "cycle"), value="①")
def test_garbage_in_every_page_parameter_gives_no_traceback(sqlite_demo_url, pair, value):
    """Every page's own URL parameters: garbage and injection attempts give a message, never an exception."""
    os.environ.pop("REGISTRY_AUTH_SECRET", None)
    from streamlit.testing.v1 import AppTest

    from tests.helpers import APP

    page, name = pair
    os.environ["REGISTRY_DB_URL"] = sqlite_demo_url
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params[name] = value.replace("\x00", "")
    at.run()
    if page != "pages/overview.py" and not at.exception:
        at.switch_page(page).run()
    assert not at.exception, f"{page}?{name}={value!r}: {at.exception}"
