"""Issue 24 "Done when": the attack's figures, re-run by the suite. Each test counts its cases (at least as
many as the attack tried) and every case must hold: forged or invalid sign-in links, scope-leak URLs for a
township user, SQL payloads in every query parameter."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os

import jwt
import pytest
from data_access import auth
from data_access.queries import households as hq
from data_access.scope import Scope
from tests.helpers import open_page

SECRET = "attack-rerun-secret-Zq3v9XkT2mB7pLw4rYd8nHc1sGf6jEa0"
TOWN = "523199101000"
COUNTY = "523199000000"


def _claims(**overrides) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    claims = {"sub": "u1", "name": "张三", "region": TOWN, "role": "工作人员", "iat": now,
              "exp": now + dt.timedelta(minutes=30), "jti": auth.new_jti()}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_tokens() -> list[tuple[str, str]]:
    now = dt.datetime.now(dt.timezone.utc)
    good = jwt.encode(_claims(), SECRET, algorithm="HS256")
    head, body, sig = good.split(".")
    widened = _b64(json.dumps({**json.loads(base64.urlsafe_b64decode(body + "==")), "region": COUNTY,
                               "role": "管理员"}).encode())
    # RS256 needs a key pair the attacker has; key confusion signs HS256 with the portal's public key as secret
    public_pem = (b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(os.urandom(270)) + b"-----END PUBLIC KEY-----\n")
    rs256 = _b64(b'{"alg":"RS256","typ":"JWT"}') + "." + widened + "." + _b64(os.urandom(256))
    confused = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + widened
    confused += "." + _b64(hmac.new(public_pem, confused.encode(), hashlib.sha256).digest())
    out = [
        ("alg=none", jwt.encode(_claims(role="管理员"), None, algorithm="none")),
        ("alg=none, empty signature kept", _b64(b'{"alg":"none","typ":"JWT"}') + "." + widened + "."),
        ("alg=NONE", _b64(b'{"alg":"NONE","typ":"JWT"}') + "." + widened + "."),
        ("HS512", jwt.encode(_claims(), SECRET, algorithm="HS512")),
        ("HS384", jwt.encode(_claims(), SECRET, algorithm="HS384")),
        ("RS256 with the attacker's key", rs256),
        ("RS256→HS256 key confusion (public key as HMAC secret)", confused),
        ("tampered payload (county 管理员)", f"{head}.{widened}.{sig}"),
        ("tampered signature", f"{head}.{body}.{sig[:-2]}AA"),
        ("signature dropped", f"{head}.{body}."),
        ("wrong secret", jwt.encode(_claims(), "another-strong-secret-for-forging-0123456789", algorithm="HS256")),
        ("weak guessed secret", jwt.encode(_claims(), "123456", algorithm="HS256")),
        ("expired", jwt.encode(_claims(exp=now - dt.timedelta(seconds=1), iat=now - dt.timedelta(minutes=5)),
                               SECRET, algorithm="HS256")),
        ("expired long ago", jwt.encode(_claims(exp=now - dt.timedelta(days=400), iat=now - dt.timedelta(days=401)),
                                        SECRET, algorithm="HS256")),
        ("nbf in the future", jwt.encode(_claims(nbf=now + dt.timedelta(hours=1)), SECRET, algorithm="HS256")),
        ("iat in the future", jwt.encode(_claims(iat=now + dt.timedelta(hours=1), exp=now + dt.timedelta(hours=2)),
                                         SECRET, algorithm="HS256")),
        ("lifetime 13 h", jwt.encode(_claims(exp=now + dt.timedelta(hours=13)), SECRET, algorithm="HS256")),
        ("lifetime 10 years, no iat", jwt.encode(_claims(iat=None, exp=now + dt.timedelta(days=3650)), SECRET,
                                                  algorithm="HS256")),
        ("exp as text", jwt.encode(_claims(exp="9999999999"), SECRET, algorithm="HS256")),
        ("aud claim", jwt.encode(_claims(aud="https://other.example"), SECRET, algorithm="HS256")),
        ("empty string", ""),
        ("garbage", "abc"),
        ("two parts", "abc.def"),
        ("four parts", good + ".x"),
        ("over 4 KB", good + "A" * 5000),
        ("bad base64 header", "!!!." + body + "." + sig),
        ("JSON array payload", head + "." + _b64(b"[1,2,3]") + "." + sig),
    ]
    for claim in ("exp", "sub", "region", "role"):
        out.append((f"missing {claim}", jwt.encode(_claims(**{claim: None}), SECRET, algorithm="HS256")))
    for name, value in (("role 超级用户", {"role": "超级用户"}), ("role empty", {"role": ""}),
                        ("region short", {"region": "5231"}), ("region SQL", {"region": "' OR 1=1 --"}),
                        ("region letters", {"region": "52319910100A"}), ("sub empty", {"sub": ""}),
                        ("sub as object", {"sub": {"id": 1}})):
        out.append((name, jwt.encode(_claims(**value), SECRET, algorithm="HS256")))
    return out


def test_every_forged_or_invalid_sign_in_link_is_refused():
    cases = forged_tokens()
    assert len(cases) >= 37  # the attack tried 37
    accepted = []
    for name, token in cases:
        try:
            auth.verify_token(token, SECRET)
            accepted.append(name)
        except auth.AuthError as exc:
            assert str(exc) and any("\u4e00" <= ch <= "\u9fff" for ch in str(exc)), name  # a Chinese reason
    assert accepted == []
    print(f"\n[attack] forged or invalid tokens refused: {len(cases)} of {len(cases)}")


# ---- scope-leak URLs: a township 工作人员 asks for other regions' pages and files ---------------------------

PAGES = ("pages/overview.py", "pages/village_map.py", "pages/causes.py", "pages/exits.py", "pages/funds.py",
         "pages/monitoring.py", "pages/help.py", "pages/query.py", "pages/talking_points.py", "pages/village.py",
         "pages/data_admin.py")


@pytest.fixture
def leak_db(registry_backend, make_db, monkeypatch):
    from data_access.db import get_engine
    from tests.helpers import SqlRunner

    monkeypatch.setenv("REGISTRY_AUTH_SECRET", SECRET)
    url = make_db("small", 11, backend=registry_backend)
    return url, SqlRunner(get_engine(url))


def test_a_township_user_gets_nothing_of_another_region(leak_db):
    url, q = leak_db
    own, other = [r[0] for r in q.rows("SELECT code FROM region WHERE level='town' ORDER BY code LIMIT 2")]
    other_village = q.scalar("SELECT MIN(code) FROM region WHERE level='village' AND parent_code = :t", t=other)
    other_hh = q.scalar("SELECT MIN(hh_id) FROM household WHERE town_code = :t", t=other)
    other_project = q.scalar("SELECT MIN(project_id) FROM project WHERE region_code LIKE :p", p=other[:9] + "%")
    names = {r[0] for r in q.rows("SELECT head_name FROM household WHERE town_code = :t", t=other)} - {
        r[0] for r in q.rows("SELECT head_name FROM household WHERE town_code = :t", t=own)}
    urls = [(page, {"region": target}) for page in PAGES for target in (COUNTY, other, other_village)]
    urls += [("pages/household.py", {"hh": other_hh}), ("pages/household.py", {"hh": other_hh, "region": other}),
             ("pages/project.py", {"project": other_project}), ("pages/query.py", {"q": other_hh}),
             ("pages/query.py", {"region": other, "q": other_hh})]
    assert len(urls) >= 38
    leaks = []
    for page, params in urls:
        at = open_page(url, page, token=auth.make_token(SECRET, "t1", "测试", own, "工作人员"), **params)
        assert not at.exception, (page, params)
        text = "\n".join(str(df.value.to_csv()) for df in at.dataframe)
        text += "\n".join(str(m.proto) for m in at.metric)
        if other_hh in text or any(n in text for n in list(names)[:50]):
            leaks.append((page, params))
    assert leaks == []
    print(f"\n[attack] scope-leak URLs for a township user: {len(urls)}, leaks 0")


# ---- SQL payloads in every parameter of the query ----------------------------------------------------------

PAYLOADS = ("'", "''", "' OR '1'='1", "' OR 1=1 --", "1; DROP TABLE household; --", "'; DELETE FROM person; --",
            "\" OR \"\"=\"", "1' UNION SELECT id_number FROM person --", "%' --", "%", "_", "\\", "1)) OR ((1=1",
            "'; UPDATE household SET head_name='x'; --", "1 OR SLEEP(5)", "'; SELECT pg_sleep(5); --",
            "admin'--", "$$; DROP TABLE region; $$", "é' OR 'a'='a", "0x27", "%27%20OR%201%3D1", "\x00",
            "' AND (SELECT COUNT(*) FROM person) > 0 --")
PARAMS = ("q", "main_cause", "attribute", "status", "identified_year", "income_min", "helper", "unit", "sort",
          "house", "risk", "page", "size", "cols", "relocated")


def test_sql_payloads_in_every_parameter_have_no_effect(registry_engine, q):
    tables = ("household", "person", "region", "income", "assignment")
    before = {t: q.scalar(f"SELECT COUNT(*) FROM {t}") for t in tables}
    names_before = q.scalar("SELECT COUNT(DISTINCT head_name) FROM household")
    county = Scope.of(COUNTY)
    runs = refused = 0
    for param in PARAMS:
        for payload in PAYLOADS:
            runs += 1
            try:
                f = hq.HouseholdFilter.from_params({param: payload})
                got = hq.query_page(registry_engine, county, f, 2026, masked=False)
            except hq.FilterError:
                refused += 1
                continue
            assert got["households"] <= before["household"]
    # past the validation, straight into SQL: the dossier's 户编号 and the filter's free-text fields (a NUL
    # byte never gets this far: every page checks these against their patterns, and PostgreSQL refuses it)
    from data_access.queries import dossier

    reached = 0
    for payload in (p for p in PAYLOADS if "\x00" not in p):
        answers = (dossier.household_profile(registry_engine, county, payload, 2026, masked=False),
                   dossier.household_members(registry_engine, county, payload, masked=False),
                   dossier.household_visits(registry_engine, county, payload),
                   hq.query_page(registry_engine, county, hq.HouseholdFilter(helper=payload), 2026),
                   hq.query_page(registry_engine, county, hq.HouseholdFilter(unit=payload), 2026))
        reached += len(answers)
        for got in answers:
            assert got is None or (got.get("households") == 0 if isinstance(got, dict) else len(got) == 0)
    runs += reached
    assert runs >= 121  # the attack sent 121
    assert {t: q.scalar(f"SELECT COUNT(*) FROM {t}") for t in tables} == before
    assert q.scalar("SELECT COUNT(DISTINCT head_name) FROM household") == names_before
    print(f"\n[attack] SQL payloads: {runs} values ({refused} refused by validation with a message, {reached} "
          "straight into SQL), 0 SQL effect")
