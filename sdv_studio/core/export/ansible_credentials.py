"""What an Ansible export carries for KUKSA security, as a deployment gives it (docs/security.md):
the public half of the workstation's signing key, for SDV Studio's databroker to verify tokens with
(``--jwt-public-key``); the app's token, minted for the package's data-access level; and a CA given
with ``--broker-ca``. The token is the one secret: it goes to its own vars file, mode 0600."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sdv_studio.core.defaults import DATABROKER_PORT
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.security.access import SignalsError, broker_access, data_access_of
from sdv_studio.core.deploy.security.tokens import EXPIRES, workstation_key
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.export.yaml_text import dump

CREDENTIALS = "vars/credentials.yml"
TOKEN_VAR = "sdv_kuksa_token"
KEY_EXPORTED = "files/broker/auth"
CA_EXPORTED = "files/broker/ca"


class CredentialsInvalid(InvalidInput):
    """The app's token cannot be made: its AppManifest.json, or the workstation's key."""


@dataclass(frozen=True)
class Credentials:
    files: dict[str, bytes]  # path inside the export -> content: the public key, the CA
    variables: dict[str, Any]  # merged into sdv_kuksa
    secrets: str  # vars/credentials.yml
    token_expires: datetime | None  # of a token minted here; None for a given one or none
    not_enforced: list[str] = field(default_factory=list)


def may_be_ours(broker: str | None) -> bool:
    """Whether the app's databroker may be SDV Studio's, as kuksa_wiring.recognise decides on the
    device: chosen there (``broker`` None), or fixed at the device's own 127.0.0.1:55555."""
    if broker is None:
        return True
    host, _, port = broker.rpartition(":")
    return host in ("127.0.0.1", "localhost") and port == str(DATABROKER_PORT)


def credentials(package: PackageFile, options: DeployOptions, broker: str | None) -> Credentials:
    """``broker``: the one fixed now (sdv_kuksa.broker), or None when the device's is chosen there."""
    ours = may_be_ours(broker)
    try:
        key = workstation_key()
    except (OSError, ValueError) as exc:
        raise CredentialsInvalid(f"the databroker signing key cannot be used: {exc}") from exc
    try:
        access = broker_access(package.entries, package.name, data_access_of(package.manifest),
                               broker or f"127.0.0.1:{DATABROKER_PORT}", ours=ours, key=key,
                               given_token=options.broker_token, given_ca=options.broker_ca)
    except SignalsError as exc:
        raise CredentialsInvalid(str(exc)) from exc
    files: dict[str, bytes] = {}
    variables: dict[str, Any] = {"key": None, "keyFile": None, "tokenGiven": options.broker_token is not None,
                                 "ca": None}
    if ours:
        name = f"{key.fingerprint}.pem"
        files[f"{KEY_EXPORTED}/{name}"] = key.public_pem
        variables.update(key=f"{KEY_EXPORTED}/{name}", keyFile=f"broker-auth/{name}")
    if access.ca_pem is not None:
        name = f"{hashlib.sha256(access.ca_pem).hexdigest()[:16]}.pem"
        files[f"{CA_EXPORTED}/{name}"] = access.ca_pem
        variables["ca"] = {"file": f"{CA_EXPORTED}/{name}", "path": f"broker-ca/{name}"}
    minted = access.token is not None and options.broker_token is None
    header = ("# Written by `sdv-studio export ansible`: the app's databroker token, a secret (KUKSA_TOKEN). "
              "Encrypt it with\n#     ansible-vault encrypt vars/credentials.yml\n# and run the playbook "
              "with --ask-vault-pass (or --vault-password-file FILE).\n") if access.token else (
              "# Written by `sdv-studio export ansible`: no databroker token for the app (its broker is not "
              "SDV Studio's and none was given).\n")
    return Credentials(files, variables, header + dump({TOKEN_VAR: access.token}),
                       datetime.fromtimestamp(EXPIRES, UTC) if minted else None, access.not_enforced)
