"""Tokens minted on the workstation are what SDV Studio's databroker verifies, in KUKSA's format."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from sdv_studio.broker import auth
from sdv_studio.broker.vss import Entry
from sdv_studio.core.deploy.security.tokens import FULL_ACCESS, mint, workstation_key


def _entry(path: str) -> Entry:
    return Entry(id=1, path=path, entry_type="sensor", datatype="float")


def test_the_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "config" / "databroker-key.pem"
    first = workstation_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    again = workstation_key(path)
    assert again.fingerprint == first.fingerprint and path.stat().st_mode & 0o777 == 0o600


def test_a_minted_token_is_verified_by_the_broker_and_allows_its_scope_only(tmp_path: Path) -> None:
    key = workstation_key(tmp_path / "key.pem")
    token = mint(key, "seat-app", "read:Vehicle.Speed provide:Vehicle.Cabin.Light.IsDomeOn")
    assert token == mint(key, "seat-app", "read:Vehicle.Speed provide:Vehicle.Cabin.Light.IsDomeOn")
    header, claims = (json.loads(base64.urlsafe_b64decode(part + "==")) for part in token.split(".")[:2])
    assert header == {"alg": "RS256", "typ": "JWT", "kid": key.fingerprint}
    assert claims["aud"] == ["kuksa.val"] and claims["sub"] == "seat-app" and isinstance(claims["exp"], int)

    verifier = auth.JwtVerifier(key.public_pem)
    permissions = verifier.permissions([("authorization", f"Bearer {token}")])
    assert permissions.allows(auth.READ, _entry("Vehicle.Speed"))
    assert permissions.allows(auth.PROVIDE, _entry("Vehicle.Cabin.Light.IsDomeOn"))
    assert not permissions.allows(auth.PROVIDE, _entry("Vehicle.Speed"))
    assert not permissions.allows(auth.READ, _entry("Vehicle.Body.Horn.IsActive"))
    everything = verifier.permissions([("authorization", f"Bearer {mint(key, 'open-app', FULL_ACCESS)}")])
    assert everything.allows(auth.ACTUATE, _entry("Vehicle.Body.Horn.IsActive"))

    other = workstation_key(tmp_path / "other.pem")
    with pytest.raises(auth.AuthError):
        auth.JwtVerifier(other.public_pem).permissions([("authorization", f"Bearer {token}")])
