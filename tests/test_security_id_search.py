"""Issue 24 (low): a search by ID number keeps the number out of the URL (and so out of the browser history
and any Referer); the other filters stay in the URL, the result is still the household holding that ID.

Only a 管理员 (who sees full ID numbers) may search by one: for a masked role the answer (found / not found)
would complete a masked ID (item 2; see test_security_masking_rebuild)."""

from __future__ import annotations

import pytest

from data_access import auth
from tests.helpers import metrics, open_page

SECRET = "id-search-secret-Zq3v9XkT2mB7pLw4rYd8nHc1sGf6jEa0"

QUERY = "pages/query.py"
COUNTY = "523199000000"


def _params(at) -> dict[str, str]:
    return {k: str(v) for k, v in at.query_params.items()}


def _no_id_digits(at, number: str) -> None:
    """No parameter holds the ID, nor 6 of its digits after the region part (birth date, sequence, check)."""
    private = number[6:]
    for name, value in _params(at).items():
        assert number not in value
        for i in range(len(private) - 5):
            assert private[i:i + 6] not in value, f"?{name}={value} holds digits of the ID number"


def _count(at) -> int:
    return int(metrics(at)["符合条件的户数(户)"].replace(",", ""))


def admin(role: str = "管理员") -> str:
    return auth.make_token(SECRET, "a1", "测试", COUNTY, role)


@pytest.fixture
def person(registry_url, q, monkeypatch):
    monkeypatch.setenv("REGISTRY_AUTH_SECRET", SECRET)
    return q.one("SELECT p.hh_id, p.id_number, h.status FROM person p JOIN household h ON h.hh_id = p.hh_id "
                 "WHERE p.id_number IS NOT NULL AND h.status IS NOT NULL ORDER BY p.person_id LIMIT 1 OFFSET 40")


def test_a_typed_id_search_stays_out_of_the_url(registry_url, q, person):
    at = open_page(registry_url, QUERY, token=admin(), region=COUNTY, status=person.status)
    assert not at.exception
    at.text_input(key="qf-q").input(person.id_number).run()
    assert not at.exception
    _no_id_digits(at, person.id_number)
    params = _params(at)
    assert params["status"] == person.status and params["region"] == COUNTY  # still deep-linkable
    assert "q" not in params and params.get("qid")
    expected = q.scalar("SELECT COUNT(DISTINCT h.hh_id) FROM household h JOIN person p ON p.hh_id = h.hh_id "
                        "WHERE p.id_number = :n AND h.status = :s", n=person.id_number, s=person.status)
    assert _count(at) == expected == 1
    assert list(at.dataframe[0].value["户编号"]) == [person.hh_id]
    at.run()  # a rerun (e.g. the back button to this URL) keeps the search
    assert _count(at) == 1 and "q" not in _params(at)
    at.text_input(key="qf-q").input(person.hh_id).run()  # a 户编号 search is an ordinary deep link
    assert _params(at).get("q") == person.hh_id and "qid" not in _params(at) and _count(at) == 1


def test_an_id_number_in_a_link_leaves_the_url_at_once(registry_url, person):
    at = open_page(registry_url, QUERY, token=admin(), region=COUNTY, q=person.id_number)
    assert not at.exception
    _no_id_digits(at, person.id_number)
    assert _count(at) == 1 and list(at.dataframe[0].value["户编号"]) == [person.hh_id]


def test_another_sessions_id_key_finds_nothing_and_says_so(registry_url, person):
    at = open_page(registry_url, QUERY, token=admin(), region=COUNTY, q=person.id_number)
    key = _params(at)["qid"]
    other = open_page(registry_url, QUERY, token=admin(), region=COUNTY, qid=key)
    assert not other.exception
    assert any("不随链接保存" in w.value for w in other.warning)
    assert "qid" not in _params(other) and _count(other) > 1  # the unfiltered list, not that household
