"""How a container starts beyond what its package says: the databroker credentials, and for a
sandboxed app (sandbox level advanced or military) no network but its databroker's.

A sandboxed container runs with network ``none``. The agent's relay (agent/sdvagent/relay.py)
serves a unix socket per broker (databroker, MQTT) in a folder mounted read-only into the
container, and the container's first process is the relay's inside half: it listens on the
container's own loopback at the brokers' ports, runs the image's command as its child, and joins
each connection to the socket. The app dials 127.0.0.1 as usual and reaches nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from docker.models.images import Image

from sdv_studio.core.deploy.kuksa_wiring import Wiring
from sdv_studio.core.deploy.security.delivery import CA_VAR, SERVER_NAME_VAR
from sdv_studio.core.packaging.docker import VENV

RELAY_MOUNT = "/run/sdv-relay"
CA_MOUNT = "/run/sdv-studio/broker-ca.pem"


def _split(endpoint: str) -> tuple[str, str]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), port


@dataclass(frozen=True)
class ContainerLaunch:
    credentials: dict[str, str] = field(default_factory=dict)  # KUKSA_TOKEN
    ca_path: str | None = None  # the CA on the device, mounted read-only
    relay: Mapping[str, Any] | None = None  # the agent's ``relay`` answer, for a sandboxed app

    def environment(self, wiring: Wiring) -> dict[str, str]:
        """What the package's environment gets on top: credentials, and the brokers as the
        sandboxed container reaches them (its own loopback)."""
        env = dict(self.credentials)
        if self.ca_path:
            env[CA_VAR] = CA_MOUNT
        if self.relay is None:
            return env
        host, port = _split(wiring.broker)
        mqtt_port = _split(wiring.mqtt)[1]
        env.update({"KUKSA_ENDPOINT": f"127.0.0.1:{port}", "SDV_VEHICLEDATABROKER_ADDRESS": f"grpc://127.0.0.1:{port}",
                    "SDV_MQTT_ADDRESS": f"mqtt://127.0.0.1:{mqtt_port}"})
        if self.ca_path and host not in ("127.0.0.1", "localhost"):
            env[SERVER_NAME_VAR] = host  # the name the broker's certificate carries
        return env

    def run_options(self, image: Image) -> dict[str, Any]:
        """docker-py ``containers.run`` arguments: mounts, and for a sandboxed app its network and
        first process."""
        volumes = {self.ca_path: {"bind": CA_MOUNT, "mode": "ro"}} if self.ca_path else {}
        if self.relay is None:
            return {"volumes": volumes, "network_mode": "host"}
        volumes[str(self.relay["folder"])] = {"bind": RELAY_MOUNT, "mode": "ro"}
        routes = [f"127.0.0.1:{_split(target)[1]}={RELAY_MOUNT}/{socket}"
                  for target, socket in sorted(self.relay["sockets"].items())]
        config = image.attrs.get("Config") or {}
        command = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
        return {"volumes": volumes, "network_mode": "none",
                "entrypoint": [f"{VENV}/bin/python", f"{RELAY_MOUNT}/{self.relay['script']}", "inside", *routes, "--"],
                "command": command}
