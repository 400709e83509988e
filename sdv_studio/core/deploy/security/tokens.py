"""Databroker tokens, minted on the workstation: RS256 JWTs in KUKSA's claims format.

The workstation holds the signing key (``databroker-key.pem`` in the config folder, created once,
0600); the fallback databroker SDV Studio starts on a device gets its public half
(``--jwt-public-key``). Signing is deterministic (PKCS#1 v1.5) and the claims carry no issue time,
so deploying the same app again brings the same token and does not restart it; the expiry is
the latest a 32-bit ``exp`` can say, as KUKSA's own databroker requires one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sdv_studio import paths

KEY_FILE = "databroker-key.pem"
ISSUER = "SDV Studio"
AUDIENCE = ["kuksa.val"]
EXPIRES = 2**31 - 1
FULL_ACCESS = "read provide actuate"  # bare actions: every signal


@dataclass(frozen=True)
class SigningKey:
    private: rsa.RSAPrivateKey

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def fingerprint(self) -> str:
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha256(der).hexdigest()[:16]


def key_path() -> Path:
    return paths.config_dir() / KEY_FILE


def workstation_key(path: Path | None = None) -> SigningKey:
    """The stored key, or a new one written once (O_EXCL: two deployments starting at once agree)."""
    path = path or key_path()
    for _ in range(2):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = None
        if data:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
            loaded = serialization.load_pem_private_key(data, password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"{path}: not an RSA private key")
            return SigningKey(loaded)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return SigningKey(key)
    raise OSError(f"{path}: could not read or create the databroker signing key")


def _segment(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mint(key: SigningKey, subject: str, scope: str) -> str:
    """A token for ``subject`` (the app) allowing ``scope`` (``read:Vehicle.Speed actuate:…``)."""
    header = _segment({"alg": "RS256", "typ": "JWT", "kid": key.fingerprint})
    claims = _segment({"sub": subject, "iss": ISSUER, "aud": AUDIENCE, "exp": EXPIRES, "scope": scope})
    signature = key.private.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{claims}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
