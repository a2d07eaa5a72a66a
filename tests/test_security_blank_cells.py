"""Issue 24 item 8: a blank cell keeps the stored value unless the user asks blanks to clear; the report
lists which columns a run changes.

The attack: re-importing a household with empty 户联系电话, 自然村 and 其他致贫原因 cells deleted them (exit 0).
"""

from __future__ import annotations

from data_access.importer import samples as S
from tests.helpers import errors, run, scalar, village_scope
from tests.helpers import rows as q

BLANKED = ("户联系电话", "自然村", "其他致贫原因", "人联系电话", "文化程度")


def _blanked(engine):
    headers, rows = S.sheet_from_db(engine, "persons", village_scope(engine))
    c = {h: i for i, h in enumerate(headers)}
    hh = next(r[c["户编号"]] for r in rows if r[c["户联系电话"]] and r[c["自然村"]] and r[c["其他致贫原因"]]
              and r[c["人联系电话"]])
    family = [list(r) for r in rows if r[c["户编号"]] == hh]
    for r in family:
        for h in BLANKED:
            r[c[h]] = None
    return S.xlsx_bytes([("人员", headers, family)]), hh


def _stored(engine, hh):
    return (q(engine, "SELECT phone, natural_village FROM household WHERE hh_id = :h", h=hh),
            q(engine, "SELECT cause FROM other_cause WHERE hh_id = :h ORDER BY cause", h=hh),
            q(engine, "SELECT person_id, phone, education FROM person WHERE hh_id = :h ORDER BY person_id", h=hh))


def test_blank_cells_keep_the_stored_values(clone):
    data, hh = _blanked(clone)
    before = _stored(clone, hh)
    result = run(clone, [("空白.xlsx", data)])
    assert errors(result) == [] and result.fatal is None
    assert _stored(clone, hh) == before
    kept = " ".join(p.reason for p in result.notices)
    for h in BLANKED:
        assert f"“{h}”为空:空白单元格保留了数据库中的原值" in kept


def test_clear_blanks_clears_and_the_report_names_the_columns(clone):
    data, hh = _blanked(clone)
    n_people = scalar(clone, "SELECT COUNT(*) FROM person WHERE hh_id = :h AND phone IS NOT NULL", h=hh)
    result = run(clone, [("空白.xlsx", data)], clear_blanks=True)
    assert errors(result) == [] and result.written
    phone, village = q(clone, "SELECT phone, natural_village FROM household WHERE hh_id = :h", h=hh)[0]
    assert (phone, village) == (None, None)
    assert scalar(clone, "SELECT COUNT(*) FROM other_cause WHERE hh_id = :h", h=hh) == 0
    assert scalar(clone, "SELECT COUNT(*) FROM person WHERE hh_id = :h AND phone IS NOT NULL", h=hh) == 0
    assert result.fields["户"]["户联系电话"] == 1 and result.fields["户"]["自然村"] == 1
    assert result.fields["人"]["人联系电话"] == n_people
    assert "户联系电话 1 条" in result.fields_text()


def test_cli_has_the_clear_blanks_flag():
    import argparse

    from data_access.importer.run import add_import_arguments

    parser = argparse.ArgumentParser()
    add_import_arguments(parser)
    assert parser.parse_args(["a.xlsx", "--clear-blanks"]).clear_blanks is True
    assert parser.parse_args(["a.xlsx"]).clear_blanks is False
