"""The two Huawei Cloud IAM calls of OpenID Connect federation, as the sandbox serves them.

A GitHub job holds no Huawei Cloud key: it writes its OIDC ID token to a file, and the SDK trades
it (``HUAWEICLOUD_SDK_IDP_ID`` and ``HUAWEICLOUD_SDK_ID_TOKEN_FILE``) in two calls, the ones
"Obtaining a Token with an OpenID Connect ID Token" and "Obtaining a Temporary Access Key and
Security Token of a Federated User" document:

- ``POST /v3.0/OS-AUTH/id-token/tokens``, header ``X-Idp-Id``, body ``{"auth": {"id_token": {"id":
  JWT}}}``: 201 with the token in ``X-Subject-Token``;
- ``POST /v3.0/OS-CREDENTIAL/securitytokens``, body ``{"auth": {"identity": {"methods": ["token"],
  "token": {"id": TOKEN, "duration_seconds": N}}}}``: 201 with ``{"credential": {"access",
  "secret", "securitytoken", "expires_at"}}``, N from 900 to 86,400 seconds.

The sandbox checks the ID token's shape and expiry, not its signature or the identity provider's
identity conversion rules (those live in the account's IAM). A request signed with a temporary
key must carry that key's security token (``X-Security-Token``), as the gateway requires.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.sandbox.functiongraph import FgError

PREFIX = "/v3.0/"
TOKEN_PATH = "/v3.0/OS-AUTH/id-token/tokens"
KEY_PATH = "/v3.0/OS-CREDENTIAL/securitytokens"
DURATION_MIN, DURATION_MAX = 900, 86_400
TEMPORARY_PREFIX = "SANDBOXTMP"  # the sandbox's temporary keys; any other key is long-lived
_ACCESS = re.compile(r"SDK-HMAC-SHA256 Access=([^,]+),")


# IAM answers errors as FunctionGraph does: a status, and {"error_code", "error_msg"}.
IamError = FgError


def _claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, refused unless it has the three parts and a JSON payload."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise IamError(400, "IAM.0101", "The id_token is not a JSON Web Token.")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        raise IamError(400, "IAM.0101", "The id_token's payload is not JSON.") from None
    if not isinstance(claims, dict):
        raise IamError(400, "IAM.0101", "The id_token's payload is not a JSON object.")
    return claims


class HuaweiIam:
    """Unscoped tokens traded from ID tokens, and the temporary keys traded from those."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # unscoped token -> expiry (epoch seconds)
        self._keys: dict[str, str] = {}  # temporary access key -> its security token
        self.trades = 0  # ID tokens traded: what a test can count

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._keys.clear()
            self.trades = 0

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        """Answer an IAM call: status, extra headers and a JSON body."""
        try:
            if method != "POST" or path not in (TOKEN_PATH, KEY_PATH):
                raise IamError(404, "IAM.0404", "The requested resource does not exist.")
            try:
                request = json.loads(body or b"null")
            except (ValueError, UnicodeDecodeError):
                raise IamError(400, "IAM.0011", "Request body is not JSON.") from None
            auth = request.get("auth") if isinstance(request, dict) else None
            if not isinstance(auth, dict):
                raise IamError(400, "IAM.0011", "The auth parameter is missing.")
            if path == TOKEN_PATH:
                return self._token(headers, auth)
            return self._key(auth)
        except IamError as error:
            return error.status, {}, error.body()

    def _token(
        self, headers: Mapping[str, str], auth: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        idp = headers.get("x-idp-id", "")
        if not idp:
            raise IamError(400, "IAM.0011", "The X-Idp-Id header is missing.")
        id_token = auth.get("id_token")
        token_id = id_token.get("id") if isinstance(id_token, dict) else None
        if not isinstance(token_id, str) or not token_id:
            raise IamError(400, "IAM.0011", "The id_token parameter is missing.")
        claims = _claims(token_id)
        expiry = claims.get("exp")
        if not isinstance(expiry, int | float) or isinstance(expiry, bool) or expiry <= time.time():
            raise IamError(401, "IAM.0103", "The id_token has expired.")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise IamError(401, "IAM.0104", "The id_token names no subject.")
        token = "MIIsandbox" + secrets.token_urlsafe(24)
        expires = datetime.now(UTC) + timedelta(hours=24)
        with self._lock:
            self._tokens[token] = expires.timestamp()
            self.trades += 1
        body = {
            "token": {
                "methods": ["mapped"],
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "issued_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "user": {
                    "name": claims["sub"][:64],
                    "OS-FEDERATION": {"identity_provider": {"id": idp}},
                },
            }
        }
        return 201, {"X-Subject-Token": token}, body

    def _key(self, auth: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        identity = auth.get("identity")
        if not isinstance(identity, dict) or identity.get("methods") != ["token"]:
            raise IamError(400, "IAM.0011", 'The identity methods must be ["token"].')
        token = identity.get("token")
        if not isinstance(token, dict):
            raise IamError(400, "IAM.0011", "The token parameter is missing.")
        duration = token.get("duration_seconds", DURATION_MIN)
        if (
            not isinstance(duration, int)
            or isinstance(duration, bool)
            or not DURATION_MIN <= duration <= DURATION_MAX
        ):
            raise IamError(
                400,
                "IAM.0011",
                f"duration_seconds must be from {DURATION_MIN} to {DURATION_MAX}.",
            )
        with self._lock:
            expiry = self._tokens.get(str(token.get("id")))
            if expiry is None or expiry <= time.time():
                raise IamError(401, "IAM.0301", "The token is invalid or has expired.")
            access = TEMPORARY_PREFIX + secrets.token_hex(6).upper()
            security = secrets.token_urlsafe(48)
            self._keys[access] = security
        expires = datetime.now(UTC) + timedelta(seconds=duration)
        credential = {
            "access": access,
            "secret": secrets.token_urlsafe(30),
            "securitytoken": security,
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        return 201, {}, {"credential": credential}

    def security_token_problem(self, headers: Mapping[str, str]) -> str | None:
        """Why a signed request's temporary key is refused, or None: a temporary key must carry
        the security token it was issued with; a long-lived key carries none."""
        match = _ACCESS.match(headers.get("authorization", ""))
        if match is None or not match[1].startswith(TEMPORARY_PREFIX):
            return None
        with self._lock:
            expected = self._keys.get(match[1])
        if expected is None:
            return "The access key is not one IAM issued."
        if not secrets.compare_digest(headers.get("x-security-token", ""), expected):
            return "The security token of the temporary access key is missing or wrong."
        return None
