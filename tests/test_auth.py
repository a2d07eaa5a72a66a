"""Signed links, trusted headers and the frame-ancestors policy."""

import base64
import datetime as dt
import json

import jwt
import pytest

from components.shell.embedding import FrameAncestorsMiddleware, policy
from data_access import auth
from data_access.settings import AuthSettings
from tests.helpers import middleware_headers

SECRET = "portal-shared-secret-for-tests-0123456789"
TOWN = "523199101000"


def token(**overrides):
    claims = {"sub": "u1", "name": "张三", "region": TOWN, "role": "工作人员",
              "exp": dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def test_valid_token_gives_identity():
    ident = auth.verify_token(token(), SECRET)
    assert ident == auth.Identity("u1", "张三", TOWN, "工作人员")


def test_expired_token_refused():
    with pytest.raises(auth.AuthError, match="过期"):
        auth.verify_token(token(exp=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)), SECRET)


def test_wrong_key_refused():
    with pytest.raises(auth.AuthError, match="签名无效"):
        auth.verify_token(token(), "another-secret-another-secret-000")


def test_tampered_payload_refused():
    head, body, sig = token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["region"] = "523199000000"  # try to widen the scope to the county
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(auth.AuthError):
        auth.verify_token(f"{head}.{forged}.{sig}", SECRET)


def test_alg_none_refused():
    unsigned = jwt.encode({"sub": "u1", "region": TOWN, "role": "管理员",
                           "exp": dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)},
                          key=None, algorithm="none")
    with pytest.raises(auth.AuthError):
        auth.verify_token(unsigned, SECRET)


def test_other_algorithm_refused():
    hs512 = jwt.encode({"sub": "u1", "region": TOWN, "role": "管理员",
                        "exp": dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)},
                       SECRET, algorithm="HS512")
    with pytest.raises(auth.AuthError, match="算法"):
        auth.verify_token(hs512, SECRET)


@pytest.mark.parametrize("claims", [{"exp": None}, {"region": None}, {"role": None}, {"sub": None}])
def test_missing_claims_refused(claims):
    with pytest.raises(auth.AuthError):
        auth.verify_token(token(**claims), SECRET)


@pytest.mark.parametrize("claims", [{"role": "超级用户"}, {"region": "5231"}, {"region": "' OR 1=1 --"}])
def test_bad_claim_values_refused(claims):
    with pytest.raises(auth.AuthError):
        auth.verify_token(token(**claims), SECRET)


def test_garbage_tokens_refused():
    for junk in ("", "abc", "a.b.c", "x" * 5000, "<script>", "%00%00"):
        with pytest.raises(auth.AuthError):
            auth.verify_token(junk, SECRET)


def test_no_secret_refuses_everything():
    with pytest.raises(auth.AuthError):
        auth.verify_token(token(), "")


def test_trusted_header_only_when_enabled():
    headers = {"X-Remote-User": "u2", "X-Remote-Name": "%E6%9D%8E%E5%9B%9B", "X-Remote-Region": TOWN,
               "X-Remote-Role": "%E9%A2%86%E5%AF%BC"}
    assert auth.identity_from_headers(headers, AuthSettings(secret="x")) is None
    ident = auth.identity_from_headers(headers, AuthSettings(trusted_header=True), "127.0.0.1")
    assert ident == auth.Identity("u2", "李四", TOWN, "领导")
    assert auth.identity_from_headers({}, AuthSettings(trusted_header=True)) is None


def test_make_token_round_trip():
    tok = auth.make_token(SECRET, "u3", "王五", TOWN, "管理员", minutes=1)
    assert auth.verify_token(tok, SECRET).role == "管理员"


def _serve(origins):
    return dict(middleware_headers(lambda app: FrameAncestorsMiddleware(app, origins=origins),
                                   [(b"x-frame-options", b"DENY"), (b"content-type", b"text/html")]))


def test_frame_ancestors_header():
    headers = _serve(["https://portal.example.gov.cn", "javascript:alert(1)", "*"])
    assert headers[b"content-security-policy"] == b"frame-ancestors 'self' https://portal.example.gov.cn"
    assert b"x-frame-options" not in headers
    assert policy([]) == "frame-ancestors 'self'"
