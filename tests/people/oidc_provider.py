"""A real OpenID Connect provider on 127.0.0.1 for the single sign-on tests.

It serves discovery, its JSON Web Key Set, an authorization endpoint that approves at once and
sends the browser back with a code, a token endpoint that checks the client secret and PKCE and
returns an RS256-signed ID token (iss, aud, exp, iat, nonce), and a userinfo endpoint. ``tamper``
makes the next ID token wrong in one way, as an attacker or a misconfigured provider would.
"""

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "rounds-klinikum"
CLIENT_SECRET = "s3cret-only-the-provider-and-rounds-know"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Provider:
    """The provider's state: who signs in next, what it issued, and how to spoil the next ID token."""

    issuer: str = ""
    key: rsa.RSAPrivateKey = field(default_factory=_key)
    kid: str = "rounds-test-key-1"
    # The claims of whoever "logs in" at the provider next (sub is required).
    claims: dict[str, Any] = field(default_factory=dict)
    # One of: "signature", "issuer", "audience", "nonce", "expired", "no-nonce".
    tamper: str = ""
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    id_tokens: list[str] = field(default_factory=list)

    def id_token(self, grant: dict[str, Any]) -> str:
        now = dt.datetime.now(tz=dt.UTC)
        payload: dict[str, Any] = {
            **grant["claims"],
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + dt.timedelta(minutes=5),
            "nonce": grant["nonce"],
        }
        key = self.key
        if self.tamper == "signature":
            key = _key()  # signed by someone else's key under our key id
        elif self.tamper == "issuer":
            payload["iss"] = "http://127.0.0.1:1/evil"
        elif self.tamper == "audience":
            payload["aud"] = "another-application"
        elif self.tamper == "nonce":
            payload["nonce"] = "a-nonce-from-another-sign-in"
        elif self.tamper == "no-nonce":
            del payload["nonce"]
        elif self.tamper == "expired":
            payload["iat"] = now - dt.timedelta(hours=2)
            payload["exp"] = now - dt.timedelta(hours=1)
        token = jwt.encode(payload, key, algorithm="RS256", headers={"kid": self.kid})
        self.id_tokens.append(token)
        return token


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, status: int, data: dict[str, Any]) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": provider.issuer,
                        "authorization_endpoint": f"{provider.issuer}/authorize",
                        "token_endpoint": f"{provider.issuer}/token",
                        "userinfo_endpoint": f"{provider.issuer}/userinfo",
                        "jwks_uri": f"{provider.issuer}/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                        "code_challenge_methods_supported": ["S256"],
                    },
                )
            elif url.path == "/jwks":
                jwk = RSAAlgorithm.to_jwk(provider.key.public_key(), as_dict=True)
                self._json(200, {"keys": [{**jwk, "kid": provider.kid, "alg": "RS256", "use": "sig"}]})
            elif url.path == "/authorize":
                if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                    self._json(400, {"error": "invalid_request"})
                    return
                code = secrets.token_urlsafe(16)
                provider.codes[code] = {
                    "claims": dict(provider.claims),
                    "nonce": query.get("nonce"),
                    "redirect_uri": query["redirect_uri"],
                    "code_challenge": query.get("code_challenge"),
                    "scope": query.get("scope", ""),
                }
                self.send_response(302)
                self.send_header(
                    "Location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                )
                self.end_headers()
            elif url.path == "/userinfo":
                grant = provider.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
                if grant is None:
                    self._json(401, {"error": "invalid_token"})
                    return
                self._json(200, grant["claims"])
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {name: values[0] for name, values in parse_qs(self.rfile.read(length).decode()).items()}
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                client_id, _sep, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
            if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
                self._json(401, {"error": "invalid_client"})
                return
            grant = provider.codes.pop(form.get("code", ""), None)
            if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                self._json(400, {"error": "invalid_grant"})
                return
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant["code_challenge"] and challenge != grant["code_challenge"]:
                self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
                return
            access_token = secrets.token_urlsafe(24)
            provider.tokens[access_token] = grant
            self._json(
                200,
                {
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": provider.id_token(grant),
                },
            )

    return Handler


@pytest.fixture
def oidc_provider(settings: Any) -> Iterator[Provider]:
    """Run the provider on a free port of 127.0.0.1 and point Rounds' single sign-on at it."""
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            **settings.SOCIALACCOUNT_PROVIDERS["openid_connect"],
            "APPS": [
                {
                    "provider_id": "klinikum",
                    "name": "Klinikum Nord ID",
                    "client_id": CLIENT_ID,
                    "secret": CLIENT_SECRET,
                    "settings": {"server_url": provider.issuer},
                }
            ],
        }
    }
    settings.ROUNDS_OIDC_SERVER_URL = provider.issuer
    # As settings.py does for the configured provider: the login form's redirect may lead there.
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"], "form-action": [*policy["DIRECTIVES"]["form-action"], provider.issuer]}
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    settings.ROUNDS_OIDC_CLIENT_ID = CLIENT_ID
    settings.ROUNDS_OIDC_GROUPS_CLAIM = "groups"
    settings.ROUNDS_OIDC_ROLE_MAP = (
        "rounds-editors=Editor;/klinikum/kommunikation=Communications reviewer;rounds-governance=Governance"
    )
    settings.ROUNDS_OIDC_REQUIRE_ROLE = True
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
