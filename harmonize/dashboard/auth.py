"""Who is asking: configured tokens, OIDC-style JWTs, and the signed session cookie.

There is no password store. A curator or submitter presents a configured token (or a JWT
signed by the identity provider); the dashboard then keeps a session in a cookie signed
with HMAC-SHA256, carrying the principal and a per-session CSRF token.

>>> from harmonize.dashboard.config import AccessToken, DashboardSettings
>>> s = DashboardSettings(secret_key="k" * 32,
...     tokens=[AccessToken(token="curator-token-123", role="curator", name="dr.c")])
>>> who = authenticate("curator-token-123", s)
>>> who.name, who.role, authenticate("guess-guess-guess", s) is None
('dr.c', 'curator', True)
>>> cookie = encode_session(Session.start(who, hours=1), s.secret_key)
>>> decode_session(cookie, s.secret_key).principal == who
True
>>> decode_session(cookie[:-2] + "xx", s.secret_key) is None
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from harmonize.dashboard.config import DashboardSettings, JwtSettings, Role

SESSION_COOKIE = "hz_session"
LOGIN_COOKIE = "hz_login"


@dataclass(frozen=True)
class Principal:
    """A signed-in person: curators see everything; submitters only their own submissions."""

    name: str
    role: Role
    datasets: tuple[str, ...] = field(default_factory=tuple)

    @property
    def curator(self) -> bool:
        return self.role == "curator"


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str
    expires: float

    @classmethod
    def start(cls, principal: Principal, *, hours: float) -> Session:
        return cls(principal, secrets.token_urlsafe(24), time.time() + hours * 3600)


def authenticate(token: str, settings: DashboardSettings) -> Principal | None:
    """The principal for a configured token or a valid JWT; ``None`` otherwise."""
    token = token.strip()
    digest = hashlib.sha256(token.encode()).hexdigest()
    found = None
    for entry in settings.tokens:  # compare every entry: no early exit timing
        if hmac.compare_digest(digest, entry.digest):
            found = entry
    if found is not None:
        return Principal(found.name, found.role, tuple(found.datasets))
    if settings.jwt is not None and token.count(".") == 2:
        return _from_jwt(token, settings.jwt)
    return None


def _from_jwt(token: str, config: JwtSettings) -> Principal | None:
    import jwt

    try:
        claims = jwt.decode(
            token,
            config.public_key,
            algorithms=config.algorithms,
            audience=config.audience,
            issuer=config.issuer,
            options={"require": ["exp", config.name_claim]},
        )
    except jwt.PyJWTError:
        return None
    role = claims.get(config.role_claim)
    name = claims.get(config.name_claim)
    datasets = claims.get(config.datasets_claim) or []
    if role not in ("curator", "submitter") or not isinstance(name, str):
        return None
    if not isinstance(datasets, list) or not all(isinstance(d, str) for d in datasets):
        return None
    return Principal(name, role, tuple(datasets))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict[str, Any], key: str) -> str:
    """``base64(json).base64(hmac)``: tamper-evident, not secret."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(key.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(value: str, key: str) -> dict[str, Any] | None:
    body, _, mac = value.partition(".")
    expected = _b64(hmac.new(key.encode(), body.encode(), hashlib.sha256).digest())
    if not mac or not hmac.compare_digest(mac, expected):
        return None
    try:
        data = json.loads(_unb64(body))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def encode_session(session: Session, key: str) -> str:
    p = session.principal
    return sign(
        {
            "n": p.name,
            "r": p.role,
            "d": list(p.datasets),
            "c": session.csrf,
            "e": session.expires,
            "k": "session",
        },
        key,
    )


def decode_session(value: str, key: str) -> Session | None:
    data = unsign(value, key)
    if data is None or data.get("k") != "session" or float(data.get("e", 0)) < time.time():
        return None
    role = data.get("r")
    if role not in ("curator", "submitter"):
        return None
    return Session(
        Principal(str(data["n"]), role, tuple(str(d) for d in data.get("d", []))),
        str(data["c"]),
        float(data["e"]),
    )


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two CSRF tokens (``None`` never matches)."""
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())
