"""Getting the app's databroker credentials to it: the CA onto the device, and the variables the
launcher, the kuksa-client template and the app's own code read (docs/security.md):
``KUKSA_TOKEN`` (the JWT), ``KUKSA_CA_FILE`` and ``KUKSA_TLS_SERVER_NAME``."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from sdv_studio.core.deploy.agent_link.client import AgentClient
from sdv_studio.core.deploy.agent_link.uploads import upload_files
from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.security.access import BrokerAccess, SignalsError, broker_access, data_access_of
from sdv_studio.core.deploy.security.tokens import SigningKey, workstation_key

TOKEN_VAR, CA_VAR, SERVER_NAME_VAR = "KUKSA_TOKEN", "KUKSA_CA_FILE", "KUKSA_TLS_SERVER_NAME"


async def signing_key() -> SigningKey:
    """The workstation's key (made on first use: an RSA key takes a moment, off the event loop)."""
    try:
        return await asyncio.to_thread(workstation_key)
    except (OSError, ValueError) as exc:
        raise DeployError(f"the databroker signing key cannot be used: {exc}") from exc


def app_access(package: PackageFile, broker: str, *, ours: bool, key: SigningKey, token: str | None,
               ca_pem: bytes | None) -> BrokerAccess:
    try:
        return broker_access(package.entries, package.name, data_access_of(package.manifest), broker, ours=ours,
                             key=key, given_token=token, given_ca=ca_pem)
    except SignalsError as exc:
        raise DeployError(str(exc)) from exc


async def place_ca(agent: AgentClient, info: dict[str, Any], access: BrokerAccess) -> str | None:
    """The CA's path on the device (in the uploads folder, named by its content), if there is one."""
    if access.ca_pem is None:
        return None
    path = f"{info['uploads']}/broker-ca/{hashlib.sha256(access.ca_pem).hexdigest()[:16]}.pem"
    await upload_files(agent, [(access.ca_pem, path)])
    return path


def credential_env(access: BrokerAccess, ca_path: str | None, server_name: str | None = None) -> dict[str, str]:
    env = {TOKEN_VAR: access.token} if access.token else {}
    if ca_path:
        env[CA_VAR] = ca_path
    if server_name:
        env[SERVER_NAME_VAR] = server_name
    return env
