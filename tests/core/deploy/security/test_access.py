"""What each dataAccess level gives the app, and what is said when it cannot be enforced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdv_studio.broker import auth
from sdv_studio.broker.vss import Entry
from sdv_studio.core.deploy.security.access import broker_access, data_access_of
from sdv_studio.core.deploy.security.tokens import SigningKey, workstation_key

ENTRIES = {"app/main.py": b"client.set_current_values({'Vehicle.Speed': Datapoint(3.0)})\n"}


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return workstation_key(tmp_path_factory.mktemp("key") / "key.pem")


def _allows(key: SigningKey, token: str | None, path: str) -> bool:
    assert token is not None
    permissions = auth.JwtVerifier(key.public_pem).permissions([("authorization", f"Bearer {token}")])
    return permissions.allows(auth.PROVIDE, Entry(id=1, path=path, entry_type="sensor", datatype="float"))


def test_restricted_on_sdv_studios_broker_gets_a_token_for_the_apps_signals(key: SigningKey) -> None:
    access = broker_access(ENTRIES, "app", "restricted", "127.0.0.1:55555", ours=True, key=key)
    assert _allows(key, access.token, "Vehicle.Speed") and not _allows(key, access.token, "Vehicle.Cabin.DogMode")
    assert access.not_enforced == [] and "writes Vehicle.Speed" in access.enforced[0]


def test_open_gets_every_signal_so_open_and_restricted_apps_share_the_broker(key: SigningKey) -> None:
    access = broker_access(ENTRIES, "app", "open", "127.0.0.1:55555", ours=True, key=key)
    assert _allows(key, access.token, "Vehicle.Cabin.DogMode")


def test_a_broker_that_is_not_ours_is_said_not_to_enforce_restricted_unless_a_token_is_given(key: SigningKey) -> None:
    bare = broker_access(ENTRIES, "app", "restricted", "10.0.0.5:55555", ours=False, key=key)
    assert bare.token is None and bare.enforced == []
    assert bare.not_enforced[0].startswith("data access restricted: the databroker at 10.0.0.5:55555 is not")
    assert "--broker-token-file" in bare.not_enforced[0]
    given = broker_access(ENTRIES, "app", "restricted", "10.0.0.5:55555", ours=False, key=key,
                          given_token="a.b.c", given_ca=b"PEM")
    assert (given.token, given.ca_pem, given.not_enforced) == ("a.b.c", b"PEM", [])


def test_encrypted_without_a_ca_says_the_app_reaches_its_broker_without_tls(key: SigningKey) -> None:
    access = broker_access(ENTRIES, "app", "encrypted", "127.0.0.1:55555", ours=True, key=key)
    assert access.token is not None and access.not_enforced == [
        "data access encrypted: the app reaches its databroker without TLS; for a TLS databroker give its CA "
        "(--broker-ca)"]


def test_the_level_is_the_packages_and_restricted_when_it_says_none(tmp_path: Path) -> None:
    assert data_access_of({"security": {"dataAccess": "open"}}) == "open"
    assert data_access_of(json.loads('{"name": "old-package"}')) == "restricted"
