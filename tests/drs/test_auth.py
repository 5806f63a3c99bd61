"""Access control: bearer JWTs and GA4GH Passports, every case, through the real app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from harmonize.drs.authconfig import TrustedIssuer
from harmonize.drs.links import API_PREFIX as API


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _object_url(published: Any) -> str:
    return f"{API}/objects/{published.controlled.id}"


def test_valid_bearer_passport_opens_the_controlled_object(
    client: TestClient, published: Any, kit: Any, schemas: Any
) -> None:
    response = client.get(_object_url(published), headers=_bearer(kit.token_for("demo")))
    assert response.status_code == 200, response.text
    schemas.check_drs_object(response.json())
    assert response.json()["checksums"][0]["checksum"] == published.controlled.sha256


def test_no_token_is_401_with_a_challenge(client: TestClient, published: Any, schemas: Any) -> None:
    response = client.get(_object_url(published))
    schemas.check_error(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="drs"'


@pytest.mark.parametrize(
    "case",
    ["expired", "wrong_issuer", "tampered", "revoked", "wrong_audience", "garbage", "alg_none"],
)
def test_untrusted_tokens_are_401(
    make_client: Callable[..., TestClient], published: Any, kit: Any, schemas: Any, case: str
) -> None:
    visas = [kit.visa("demo")]
    revoked_jti = "revoked-passport"
    tokens = {
        "expired": lambda: kit.passport(visas, expires_in=-3600),
        "wrong_issuer": lambda: kit.passport(visas, issuer=kit.rogue),
        "tampered": lambda: _tamper(kit.passport(visas)),
        "revoked": lambda: kit.passport(visas, jti=revoked_jti),
        "wrong_audience": lambda: kit.passport(visas, audience="https://elsewhere.example.org"),
        "garbage": lambda: "a.b.c",
        "alg_none": lambda: _alg_none(kit.passport(visas)),
    }
    client = make_client(auth=kit.auth_settings(revoked_jtis={revoked_jti}))
    token = tokens[case]()
    for url in (_object_url(published), _object_url(published) + "/access/https"):
        response = client.get(url, headers=_bearer(token))
        body = schemas.check_error(response, 401)
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        assert published.controlled.sha256 not in response.text
        assert "P9" not in body["msg"]
    # the same credential sent as a POSTed passport is refused just the same
    posted = client.post(_object_url(published), json={"passports": [token]})
    schemas.check_error(posted, 401)


@pytest.mark.parametrize(
    "case",
    [
        "other_dataset",
        "visa_wrong_issuer",
        "visa_expired",
        "visa_revoked",
        "visa_other_subject",
        "visa_wrong_type",
        "visa_conditions",
        "no_visas",
    ],
)
def test_trusted_token_without_a_grant_is_403(
    make_client: Callable[..., TestClient], published: Any, kit: Any, schemas: Any, case: str
) -> None:
    visas = {
        "other_dataset": lambda: [kit.visa("other")],
        "visa_wrong_issuer": lambda: [kit.visa("demo", issuer=kit.rogue)],
        "visa_expired": lambda: [kit.visa("demo", expires_in=-3600)],
        "visa_revoked": lambda: [kit.visa("demo", jti="revoked-visa")],
        "visa_other_subject": lambda: [kit.visa("demo", sub="mallory")],
        "visa_wrong_type": lambda: [kit.visa("demo", kind="AffiliationAndRole")],
        "visa_conditions": lambda: [kit.visa("demo", conditions=[[{"type": "x"}]])],
        "no_visas": lambda: [],
    }
    client = make_client(auth=kit.auth_settings(revoked_jtis={"revoked-visa"}))
    token = kit.passport(visas[case]())
    response = client.get(_object_url(published), headers=_bearer(token))
    schemas.check_error(response, 403)
    assert published.controlled.sha256 not in response.text
    # a public object stays open to the same caller
    public = client.get(f"{API}/objects/{published.specs[0].id}", headers=_bearer(token))
    assert public.status_code == 200


def test_passports_in_the_body(client: TestClient, published: Any, kit: Any, schemas: Any) -> None:
    passport = kit.passport([kit.visa("demo")])
    url = _object_url(published)
    schemas.check_error(client.post(url, json={}), 401)
    opened = client.post(url, json={"passports": [passport], "expand": False})
    assert opened.status_code == 200, opened.text
    schemas.check_drs_object(opened.json())
    access = client.post(f"{url}/access/https", json={"passports": [passport]})
    assert access.status_code == 200
    download = client.get(access.json()["url"])
    assert download.content == published.contents["P9.json"]
    bulk = client.post(
        f"{API}/objects",
        json={"bulk_object_ids": [published.controlled.id], "passports": [passport]},
    ).json()
    assert bulk["summary"] == {"requested": 1, "resolved": 1, "unresolved": 0}
    bulk_access = client.post(
        f"{API}/objects/access",
        json={
            "bulk_object_access_ids": [
                {"bulk_object_id": published.controlled.id, "bulk_access_ids": ["https"]}
            ],
            "passports": [passport],
        },
    ).json()
    assert bulk_access["summary"]["resolved"] == 1
    other = client.post(url, json={"passports": [kit.passport([kit.visa("other")])]})
    schemas.check_error(other, 403)


def test_revocation_file_is_reread(
    make_client: Callable[..., TestClient], published: Any, kit: Any, tmp_path: Path
) -> None:
    revoked = tmp_path / "revoked.txt"
    client = make_client(auth=kit.auth_settings(revocation_file=revoked))
    token = kit.passport([kit.visa("demo")], jti="passport-42")
    assert client.get(_object_url(published), headers=_bearer(token)).status_code == 200
    revoked.write_text("# revoked by the DAC\npassport-42\n")
    assert client.get(_object_url(published), headers=_bearer(token)).status_code == 401


def test_jwks_file_and_es256_tokens(
    make_client: Callable[..., TestClient], published: Any, kit: Any, tmp_path: Path
) -> None:
    """Issuer keys from a JWKS file; the broker here signs with ES256 (the DAC's key)."""
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(kit.dac.private_key.public_key()))
    jwk["kid"] = kit.dac.kid
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    auth = kit.auth_settings(
        token_issuers=[TrustedIssuer(issuer=kit.dac.name, jwks_path=jwks, algorithms=["ES256"])],
        visa_issuers=[TrustedIssuer(issuer=kit.dac.name, jwks_path=jwks)],
    )
    client = make_client(auth=auth)
    token = kit.passport([kit.visa("demo")], issuer=kit.dac, audience=None)
    assert client.get(_object_url(published), headers=_bearer(token)).status_code == 200


def test_hs256_signed_with_the_public_key_is_refused(
    client: TestClient, published: Any, kit: Any, schemas: Any
) -> None:
    """Algorithm confusion: an HMAC token keyed with the broker's public PEM."""
    _, payload, _ = kit.passport([kit.visa("demo")]).split(".")
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kit.broker.kid}).encode())
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(kit.broker.public_pem().encode(), signing_input, hashlib.sha256).digest()
    forged = f"{header}.{payload}.{_b64(mac)}"
    response = client.get(_object_url(published), headers=_bearer(forged))
    body = schemas.check_error(response, 401)
    assert "HS256" in body["msg"]


def test_options_reports_auth_types_and_issuers(
    client: TestClient, published: Any, schemas: Any, kit: Any
) -> None:
    public = client.options(f"{API}/objects/{published.specs[0].id}")
    assert public.status_code == 200
    schemas.check_openapi(public.json(), "components/schemas/Authorizations")
    assert public.json() == {"drs_object_id": published.specs[0].id, "supported_types": ["None"]}
    controlled = client.options(_object_url(published)).json()
    schemas.check_openapi(controlled, "components/schemas/Authorizations")
    assert controlled["supported_types"] == ["BearerAuth", "PassportAuth"]
    assert controlled["bearer_auth_issuers"] == [kit.broker.name]
    assert controlled["passport_auth_issuers"] == [kit.dac.name]
    # an unknown id looks the same as a controlled one
    unknown = client.options(f"{API}/objects/hznothere").json()
    assert {k: v for k, v in unknown.items() if k != "drs_object_id"} == {
        k: v for k, v in controlled.items() if k != "drs_object_id"
    }
    bulk = client.request(
        "OPTIONS",
        f"{API}/objects",
        json={"bulk_object_ids": [published.specs[0].id, published.controlled.id, "bad id"]},
    )
    assert bulk.status_code == 200
    schemas.check_openapi(
        bulk.json(), "components/responses/200OkBulkAuthorizations/content/application~1json/schema"
    )
    body = bulk.json()
    assert body["summary"] == {"requested": 3, "resolved": 2, "unresolved": 1}
    assert [a["supported_types"] for a in body["resolved_drs_object"]] == [
        ["None"],
        ["BearerAuth", "PassportAuth"],
    ]
    assert body["unresolved_drs_objects"] == [{"error_code": 400, "object_ids": ["bad id"]}]


def test_bulk_options_limit(make_client: Callable[..., TestClient], schemas: Any) -> None:
    client = make_client(max_bulk_request_length=2)
    response = client.request(
        "OPTIONS", f"{API}/objects", json={"bulk_object_ids": ["a", "b", "c"]}
    )
    schemas.check_error(response, 413)


def _tamper(token: str) -> str:
    """Change one claim and keep the original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def _alg_none(token: str) -> str:
    """The same claims, ``alg: none`` and no signature."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, None, algorithm="none")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_settings_from_the_environment_edge(tmp_path: Path, kit: Any) -> None:
    """HARMONIZE_DRS_AUTH_FILE (YAML or JSON), admin token, signing key and S3 variables."""
    from harmonize.drs.config import DrsEnvSettings

    auth_file = tmp_path / "auth.yaml"
    auth_file.write_text(
        "token_issuers:\n"
        f"  - issuer: {kit.broker.name}\n"
        "    public_keys:\n"
        "      - |\n"
        + "".join(f"        {line}\n" for line in kit.broker.public_pem().splitlines())
        + f"visa_issuers:\n  - issuer: {kit.dac.name}\n    public_keys:\n      - |\n"
        + "".join(f"        {line}\n" for line in kit.dac.public_pem().splitlines())
        + "revoked_jtis: [a, b]\n"
    )
    settings = DrsEnvSettings(
        workspace=tmp_path,
        auth_file=auth_file,
        admin_token="adm-Zq81",
        url_signing_key="sig-Zq82",
        s3_bucket="harmonize",
        s3_prefix="ws",
        compact_prefix="hz.drs",
    ).to_settings()
    assert [i.issuer for i in settings.auth.token_issuers] == [kit.broker.name]
    assert settings.auth.revoked_jtis == frozenset({"a", "b"})
    assert settings.auth.admin_token is not None
    assert settings.auth.admin_token.get_secret_value() == "adm-Zq81"
    assert settings.s3 is not None and settings.s3.key("x/y") == "ws/x/y"
    assert settings.compact_prefix == "hz.drs"
    assert "Zq81" not in repr(settings) and "Zq82" not in repr(settings.auth)


def test_issuer_key_configuration_errors(tmp_path: Path, kit: Any) -> None:
    from harmonize.drs.keys import KeyRing
    from harmonize.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="no public keys"):
        KeyRing([TrustedIssuer(issuer="https://x")])
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(kit.broker.private_key))
    jwks = tmp_path / "private.json"
    jwks.write_text(json.dumps({"keys": [private]}))
    with pytest.raises(ConfigurationError, match="public keys only"):
        KeyRing([TrustedIssuer(issuer="https://x", jwks_path=jwks)])
    with pytest.raises(ConfigurationError, match="not a PEM public key"):
        KeyRing([TrustedIssuer(issuer="https://x", public_keys=["-----BEGIN nonsense"])])
    with pytest.raises(ValueError, match="RS256"):
        TrustedIssuer(issuer="https://x", public_keys=["k"], algorithms=["HS256"])  # type: ignore[list-item]
