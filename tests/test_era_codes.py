"""Code lists of both eras, extended by a deployment's configuration (environment or a TOML file)."""

from __future__ import annotations

from data_access import codes


def test_national_lists_of_both_eras():
    assert codes.fund_sources(2019)[:4] == ("中央财政专项扶贫资金", "省级财政专项扶贫资金", "市级财政专项扶贫资金",
                                            "县级财政专项扶贫资金")
    later = codes.fund_sources(2022)
    assert later[:4] == codes.LINKAGE_FUNDS and "地方政府债券" in later and "东西部协作资金" in later
    assert "中央财政专项扶贫资金" not in later and "中央财政衔接推进乡村振兴补助资金" not in codes.fund_sources(2020)
    assert set(codes.fund_sources(2019)) | set(later) == set(codes.FUND_SOURCES)
    assert tuple(codes.MONITORING_KINDS) == ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
    assert "因自然灾害" in codes.MONITORING_RISKS and "因自然灾害·地质灾害" in codes.MONITORING_RISKS
    assert len(codes.monitoring_risks()) == len(codes.MONITORING_RISKS_TOP) + len(codes.NATURAL_DISASTER_SUBTYPES)
    assert codes.risk_parent("因自然灾害·干旱灾害") == "因自然灾害" and codes.risk_parent("因病") == "因病"
    # spellings in exports
    assert codes.normalise("中央衔接资金", codes.FUND_SOURCES) == "中央财政衔接推进乡村振兴补助资金"
    assert codes.normalise("边缘户", codes.MONITORING_KINDS) == "边缘易致贫户"
    assert codes.normalise("因自然灾害(洪涝灾害)", codes.MONITORING_RISKS) == "因自然灾害·洪涝灾害"


def test_environment_adds_kinds_everywhere_the_list_is_read(monkeypatch):
    monkeypatch.setenv("REGISTRY_MONITORING_KINDS", "即时帮扶、 脱贫不稳定户")
    assert list(codes.MONITORING_KINDS) == ["脱贫不稳定户", "边缘易致贫户", "突发严重困难户", "即时帮扶"]
    assert "即时帮扶" in codes.MONITORING_KINDS and codes.monitoring_kinds()[-1] == "即时帮扶"
    assert codes.normalise("即时帮扶", codes.MONITORING_KINDS) == "即时帮扶"
    monkeypatch.delenv("REGISTRY_MONITORING_KINDS")
    assert "即时帮扶" not in codes.MONITORING_KINDS


def test_toml_file_and_its_problems(tmp_path, monkeypatch):
    good = tmp_path / "codes.toml"
    good.write_text('[codes]\nmonitoring_kinds = ["即时帮扶"]\nfund_sources = ["省级乡村振兴专项资金", "'
                    + "长" * 20 + '"]\nidentify_deadline_days = 10\nindustry_share = {"2024" = 65}\n',
                    encoding="utf-8")
    monkeypatch.setenv("REGISTRY_CODES_FILE", str(good))
    assert "即时帮扶" in codes.MONITORING_KINDS
    assert codes.FUND_SOURCES[-1] == "省级乡村振兴专项资金" and codes.fund_sources(2024)[-1] == "省级乡村振兴专项资金"
    assert len(codes.config_problems()) == 1 and "超过16个字" in codes.config_problems()[0]
    assert codes.identify_deadline_days() == 10
    assert codes.industry_share_threshold(2023) is None and codes.industry_share_threshold(2026) == 65.0
    bad = tmp_path / "bad.toml"
    bad.write_text("[codes\nmonitoring_kinds = 1", encoding="utf-8")
    monkeypatch.setenv("REGISTRY_CODES_FILE", str(bad))
    assert tuple(codes.MONITORING_KINDS) == codes.MONITORING_KINDS_NATIONAL
    assert "无法读取" in codes.config_problems()[0]
    monkeypatch.setenv("REGISTRY_CODES_FILE", str(tmp_path / "missing.toml"))
    assert "不存在" in codes.config_problems()[0]
