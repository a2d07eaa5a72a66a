"""Masked roles (领导, 工作人员) never receive an unmasked ID number; 管理员 does."""

import pytest

from data_access import auth
from tests.helpers import open_page

SECRET = "masking-test-secret-masking-test-secret-0123456789"


def everything_sent(at) -> str:
    """Every value the page sent to the browser: tables, text, metrics, captions, html."""
    parts = []
    for df in at.dataframe:
        parts.append(df.value.to_csv(index=False))
    for kind in ("markdown", "caption", "text", "code", "html", "metric", "info", "warning", "error"):
        for el in at.get(kind):
            parts.append(str(getattr(el, "value", "") or getattr(el, "body", "") or el.proto))
    return "\n".join(parts)


@pytest.fixture
def household(auth_db_masking, sql):
    url, engine = auth_db_masking
    q = sql(engine)
    hh = q.scalar("SELECT MIN(hh_id) FROM household WHERE kind='建档立卡户'")
    ids = [r[0] for r in q.rows("SELECT id_number FROM person WHERE hh_id = :h", h=hh)]
    town = q.scalar("SELECT town_code FROM household WHERE hh_id = :h", h=hh)
    return url, hh, ids, town


@pytest.fixture
def auth_db_masking(registry_backend, make_db, monkeypatch):
    from data_access.db import get_engine

    monkeypatch.setenv("REGISTRY_AUTH_SECRET", SECRET)
    url = make_db("small", 11, backend=registry_backend)
    return url, get_engine(url)


@pytest.mark.parametrize("role", ["领导", "工作人员", "管理员"])
def test_id_numbers_reach_only_the_admin(household, role):
    url, hh, ids, town = household
    assert ids
    seen = ""
    for page, params in (("pages/household.py", {"hh": hh}), ("pages/query.py", {"q": ids[0]}),
                         ("pages/village.py", {})):
        token = auth.make_token(SECRET, "m1", "测试", town, role)
        at = open_page(url, page, token=token, **params)
        assert not at.exception, at.exception
        seen += everything_sent(at)
    if role == "管理员":
        assert any(i in seen for i in ids), "管理员 should see the full ID numbers on the household page"
    else:
        leaked = [i for i in ids if i in seen]
        assert not leaked, f"{role} received unmasked ID numbers: {leaked}"
        assert ids[0][:4] + "*" in seen  # the masked form is shown instead
