"""Optional JWT authorization, as KUKSA databroker does it.

The token comes in ``authorization: Bearer <jwt>`` metadata, signed RS256 with the key whose
public half the broker was given. Its ``scope`` claim is a space-separated list of
``read``, ``provide`` and ``actuate``, each optionally restricted to a path pattern
(``read:Vehicle.Speed``, ``provide:Vehicle.Cabin.**``); provide and actuate imply read.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from re import Pattern
from typing import Any

from sdv_studio.broker import matching
from sdv_studio.broker.vss import Entry

READ, PROVIDE, ACTUATE = "read", "provide", "actuate"
_MATCH_ALL = matching.compile_pattern("**")


class AuthError(Exception):
    """The request carries no usable token: answer UNAUTHENTICATED."""


@dataclass
class Permissions:
    rules: dict[str, list[Pattern[str]]] = field(default_factory=dict)
    expires: float | None = None

    def allows(self, action: str, entry: Entry) -> bool:
        patterns = self.rules.get(action, ())
        # No auth, or a bare scope: one match-all pattern, and the check runs on every request.
        if patterns and patterns[0] is _MATCH_ALL:
            return True
        return any(pattern.match(entry.path) for pattern in patterns)

    @property
    def expired(self) -> bool:
        return self.expires is not None and time.time() >= self.expires


ALLOW_ALL = Permissions({READ: [_MATCH_ALL], PROVIDE: [_MATCH_ALL], ACTUATE: [_MATCH_ALL]})


def permissions_from_scope(scope: str) -> Permissions:
    rules: dict[str, list[Pattern[str]]] = {READ: [], PROVIDE: [], ACTUATE: []}
    for item in scope.split():
        action, _, pattern = item.partition(":")
        if action not in rules:
            continue
        compiled = matching.compile_pattern(pattern) if pattern else _MATCH_ALL
        rules[action].append(compiled)
        if action != READ:
            rules[READ].append(compiled)
    return Permissions(rules)


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class JwtVerifier:
    def __init__(self, public_key_pem: bytes) -> None:
        # cryptography is needed only when auth is switched on.
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        self._key: Any = load_pem_public_key(public_key_pem)
        self._cache: dict[str, Permissions] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> JwtVerifier:
        return cls(Path(path).read_bytes())

    def permissions(self, metadata: Any) -> Permissions:
        token = _bearer(metadata)
        cached = self._cache.get(token)
        if cached is None:
            cached = self._decode(token)
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[token] = cached
        if cached.expired:
            raise AuthError("Permission expired")
        return cached

    def _decode(self, token: str) -> Permissions:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(_b64(header_b64))
            claims = json.loads(_b64(claims_b64))
            signature = _b64(signature_b64)
        except ValueError as exc:
            raise AuthError("Invalid auth token") from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):  # valid JSON, but not a JWT's
            raise AuthError("Invalid auth token")
        if header.get("alg") != "RS256":
            raise AuthError("Invalid auth token: only RS256 is accepted")
        try:
            self._key.verify(
                signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature as exc:
            raise AuthError("Invalid auth token") from exc
        permissions = permissions_from_scope(str(claims.get("scope", "")))
        expires = claims.get("exp")
        if expires is not None:
            if not isinstance(expires, (int, float)) or isinstance(expires, bool):
                raise AuthError("Invalid auth token: exp is not a number")
            permissions.expires = float(expires)
        return permissions


def _bearer(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == "authorization":
            scheme, _, token = str(value).partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    raise AuthError("Unauthenticated")
