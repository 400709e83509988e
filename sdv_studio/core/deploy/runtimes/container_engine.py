"""A docker-py client for a device's engine, over our already verified SSH connection.

docker-py's own ssh:// transport would open a second connection that trusts ~/.ssh/known_hosts
and ~/.ssh/config; instead every HTTP connection here is a `docker system dial-stdio` channel
on the transport that SDV Studio verified against its own known_hosts.
"""

from __future__ import annotations

from typing import Any

import docker
import paramiko
from docker.transport.sshconn import SSHHTTPAdapter

from sdv_studio.core.deploy.agent_link.local_target import LocalConnection
from sdv_studio.core.ssh.connection import SshConnection

# The oldest Engine API that has everything we use; podman 4 and Docker 20.10+ serve it.
MIN_API_VERSION = "1.41"


class _TransportHolder:
    """What docker-py's connection pool expects of an SSH client: its transport."""

    def __init__(self, transport: paramiko.Transport) -> None:
        self._transport = transport

    def get_transport(self) -> paramiko.Transport:
        return self._transport

    def close(self) -> None:
        """The connection belongs to the caller; closing the docker client leaves it open."""


class _VerifiedTransportAdapter(SSHHTTPAdapter):
    def __init__(self, transport: paramiko.Transport, timeout: int, pool_size: int) -> None:
        # shell_out=True makes the base class skip creating (and connecting) its own paramiko client.
        super().__init__("ssh://device", timeout=timeout, max_pool_size=pool_size, shell_out=True)
        self.ssh_client = _TransportHolder(transport)


def engine_client(transport: paramiko.Transport, *, timeout: int = 120, pool_size: int = 3) -> docker.DockerClient:
    """A DockerClient whose requests travel over ``transport``. Blocking: call it in a worker thread.

    The pool stays small: each HTTP connection is an SSH channel, and OpenSSH allows 10 per connection."""
    client = docker.DockerClient(base_url="ssh://device", use_ssh_client=True, version=MIN_API_VERSION,
                                 timeout=timeout)
    adapter = _VerifiedTransportAdapter(transport, timeout, pool_size)
    client.api.mount("http+docker://ssh", adapter)
    client.api._custom_adapter = adapter
    server: dict[str, Any] = client.api.version(api_version=False)
    served = str(server.get("ApiVersion", "0"))
    if _as_tuple(served) < _as_tuple(MIN_API_VERSION):
        client.close()
        raise docker.errors.DockerException(
            f"the device's engine serves API {served}; SDV Studio needs {MIN_API_VERSION} (Docker 20.10 or newer)"
        )
    return client


def engine_for(conn: SshConnection | LocalConnection) -> docker.DockerClient:
    """The engine on the device behind ``conn``; this computer's own engine for a local target."""
    if isinstance(conn, LocalConnection):
        return docker.from_env(version=MIN_API_VERSION)
    return engine_client(conn.transport)


def _as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split(".") if x.isdigit())
