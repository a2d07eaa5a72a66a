"""The sidebar's region pickers in a province database: 市(州), then its 县(区), then 乡镇 (shell.filters)."""

from __future__ import annotations

from tests.helpers import open_page


def box(at, label):
    return next(s for s in at.sidebar.selectbox if s.label == label)


def test_a_province_picks_a_city_then_one_of_its_counties(make_db, sql):
    url = make_db("test_province", 7, backend="sqlite")
    q = sql(url)
    province = q.scalar("SELECT code FROM region WHERE level = 'province'")
    cities = [r[0] for r in q.rows("SELECT code FROM region WHERE level = 'city' ORDER BY code")]
    assert len(cities) >= 2

    at = open_page(url, region=province, year=2024)
    assert not at.exception, at.exception
    assert box(at, "市(州)").options == ["全部"] + [q.scalar("SELECT name FROM region WHERE code = :c", c=c)
                                                   for c in cities]
    assert box(at, "市(州)").value == ""
    every_county = q.scalar("SELECT COUNT(*) FROM region WHERE level = 'county'")
    assert len(box(at, "县(区)").options) == every_county + 1

    city = cities[1]
    box(at, "市(州)").set_value(city).run()
    assert not at.exception, at.exception
    assert at.query_params["region"] == city
    assert box(at, "市(州)").value == city
    counties = [r[0] for r in q.rows("SELECT code FROM region WHERE level = 'county' AND code LIKE :p ORDER BY code",
                                     p=city[:4] + "%")]
    assert box(at, "县(区)").options == ["全部"] + [q.scalar("SELECT name FROM region WHERE code = :c", c=c)
                                                   for c in counties]

    box(at, "县(区)").set_value(counties[0]).run()
    assert at.query_params["region"] == counties[0]
    assert (box(at, "市(州)").value, box(at, "县(区)").value) == (city, counties[0])
    assert "乡镇" in [s.label for s in at.sidebar.selectbox]

    box(at, "县(区)").set_value("").run()  # 全部: back to the city, not the province
    assert at.query_params["region"] == city
    box(at, "市(州)").set_value("").run()
    assert at.query_params["region"] == province
