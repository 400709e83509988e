"""What a user may give for an app's databroker (``--broker-token-file``, ``--broker-ca``; the API's
``brokerToken`` and ``brokerCa``), with the checks every face applies. Each raises ValueError with
a message for the field it is about."""

from __future__ import annotations

import base64
import binascii
import json
import re

MAX_TOKEN = 16 * 1024
MAX_CA = 1024 * 1024
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def check_token(text: str) -> str:
    """The token (a JWT, as KUKSA's databroker takes it), stripped of surrounding blank space."""
    token = text.strip()
    if not token:
        raise ValueError("is empty; expected a JWT (header.claims.signature)")
    if len(token) > MAX_TOKEN:
        raise ValueError(f"is longer than {MAX_TOKEN // 1024}KB; expected one JWT")
    if not _JWT.fullmatch(token):
        raise ValueError("is not a JWT: expected three base64url parts joined by dots (header.claims.signature)")
    header = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("is not a JWT: its header is not base64url-encoded JSON") from exc
    if not isinstance(decoded, dict) or "alg" not in decoded:
        raise ValueError("is not a JWT: its header names no algorithm (alg)")
    return token


def check_ca(pem: bytes) -> bytes:
    """PEM certificates (the CA the databroker's TLS certificate chains to)."""
    if len(pem) > MAX_CA:
        raise ValueError(f"is larger than {MAX_CA // 1024}KB; expected PEM certificates")
    from cryptography import x509  # only when a CA is given

    try:
        x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise ValueError("is not a PEM certificate (-----BEGIN CERTIFICATE-----)") from exc
    return pem
