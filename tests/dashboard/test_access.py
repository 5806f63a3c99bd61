"""Sign-in (configured tokens and JWTs), the signed session cookie, CSRF and the audit log."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harmonize.dashboard import JwtSettings
from harmonize.dashboard.auth import SESSION_COOKIE
from harmonize.dashboard.config import DashboardEnvSettings

from .conftest import CURATOR, SUBMITTER_A, Env, csrf_of, make_env, sign_in


def test_sign_in_sets_a_hardened_session_cookie(seeded: Env) -> None:
    client = seeded.client()
    page = client.get("/dashboard/login")
    nonce = page.text.split('name="nonce" value="')[1].split('"')[0]
    done = client.post("/dashboard/login", data={"token": CURATOR, "nonce": nonce})
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/submissions"
    cookie = next(h for h in done.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    assert CURATOR not in cookie
    assert "dr.curator (curator)" in client.get("/dashboard/submissions").text


def test_wrong_token_and_missing_nonce_are_refused(seeded: Env) -> None:
    client = seeded.client()
    page = client.get("/dashboard/login")
    nonce = page.text.split('name="nonce" value="')[1].split('"')[0]
    bad = client.post("/dashboard/login", data={"token": "x" * 30, "nonce": nonce})
    assert bad.status_code == 401 and "not valid" in bad.text
    fresh = seeded.client()  # a login form posted from elsewhere has no nonce cookie
    forged = fresh.post("/dashboard/login", data={"token": CURATOR, "nonce": nonce})
    assert forged.status_code == 401
    assert fresh.get("/dashboard/submissions").status_code == 303


def test_tampered_session_cookie_is_rejected(seeded: Env) -> None:
    client = seeded.client(SUBMITTER_A)
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    body, mac = value.split(".")
    import base64
    import json

    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["r"] = "curator"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    fresh = seeded.client()

    def review(cookie: str) -> int:
        return fresh.get(
            "/dashboard/review", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}
        ).status_code

    assert review(value) == 403  # the genuine cookie: a submitter
    assert review(f"{forged}.{mac}") == 303  # no session: sign in again


def test_open_redirect_is_refused(seeded: Env) -> None:
    client = seeded.client()
    page = client.get("/dashboard/login?next=https://evil.example/")
    assert 'name="next" value="/dashboard/submissions"' in page.text


def test_writes_need_the_session_csrf_token_and_are_audited(seeded: Env) -> None:
    client = seeded.client(CURATOR)
    no_token = client.post("/dashboard/logout", data={})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = client.post("/dashboard/logout", data={"csrf": "guess"})
    assert wrong.status_code == 403
    csrf = csrf_of(client.get("/dashboard/submissions").text)
    out = client.post("/dashboard/logout", data={"csrf": csrf})
    assert out.status_code == 303
    assert client.get("/dashboard/submissions").status_code == 303  # signed out
    audit = seeded.client(CURATOR).get("/dashboard/audit").text
    assert audit.count("<td>sign-in</td>") == 2 and "<td>sign-out</td>" in audit


def _keys() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def test_oidc_style_jwt_signs_in(tmp_path: Path) -> None:
    private, public = _keys()
    other_private, _ = _keys()
    env = make_env(
        tmp_path / "ws",
        jwt=JwtSettings(public_key=public, audience="harmonize", issuer="https://idp.example"),
    )
    claims = {
        "sub": "dr.jwt",
        "aud": "harmonize",
        "iss": "https://idp.example",
        "exp": int(time.time()) + 300,
        "harmonize_role": "curator",
        "harmonize_datasets": ["clinic-a"],
    }

    def api(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return env.client().get("/dashboard/api/submissions", headers=headers).status_code

    good = jwt.encode(claims, private, algorithm="RS256")
    assert api(good) == 200
    assert api(jwt.encode(claims, other_private, algorithm="RS256")) == 401
    assert api(jwt.encode({**claims, "exp": int(time.time()) - 10}, private, "RS256")) == 401
    assert api(jwt.encode({**claims, "aud": "other"}, private, algorithm="RS256")) == 401
    assert api(jwt.encode({**claims, "harmonize_role": "admin"}, private, "RS256")) == 401
    assert api(jwt.encode(claims, "shared-secret-" * 3, algorithm="HS256")) == 401
    client = env.client()
    sign_in(client, good)
    assert "dr.jwt (curator)" in client.get("/dashboard/submissions").text


def test_env_settings_need_a_secret_and_keep_it_out_of_repr(tmp_path: Path) -> None:
    assert DashboardEnvSettings().to_settings() is None  # nothing configured: no dashboard
    tokens = tmp_path / "tokens.json"
    tokens.write_text('[{"token_sha256": "' + "a" * 64 + '", "role": "curator", "name": "c"}]')
    with pytest.raises(ValueError, match="SECRET_KEY"):
        DashboardEnvSettings(tokens_file=tokens).to_settings()
    settings = DashboardEnvSettings(tokens_file=tokens, secret_key="z" * 40).to_settings()
    assert settings is not None and settings.tokens[0].name == "c"
    assert "z" * 40 not in repr(settings) and "a" * 64 not in repr(settings)


def test_served_app_reads_dashboard_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from harmonize.web import app_from_env

    tokens = tmp_path / "tokens.json"
    tokens.write_text(f'[{{"token": "{CURATOR}", "role": "curator", "name": "env.curator"}}]')
    monkeypatch.setenv("HARMONIZE_DRS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("HARMONIZE_DASHBOARD_TOKENS_FILE", str(tokens))
    monkeypatch.setenv("HARMONIZE_DASHBOARD_SECRET_KEY", "e" * 40)
    client = TestClient(app_from_env())
    page = client.get("/dashboard/submissions", headers={"Authorization": f"Bearer {CURATOR}"})
    assert page.status_code == 200 and "env.curator (curator)" in page.text
    monkeypatch.delenv("HARMONIZE_DASHBOARD_TOKENS_FILE")
    assert TestClient(app_from_env()).get("/dashboard/login").status_code == 404
