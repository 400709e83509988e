"""The app's pod as SDV Studio's container runtime (core/deploy/runtimes/container.py) starts the
container: the same environment, limits, health checks and security profile, in a pod template."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import Any

from sdv_studio.core.defaults import MQTT_PORT
from sdv_studio.core.packaging.docker import DEFAULT_HEALTH_PORT, VENV, health_command
from sdv_studio.models.package import parse_cpu, parse_memory

# The runtime's HEALTHCHECK (core/packaging/docker.py): timeout 8 s, start period 5 s, 3 retries.
PROBE_TIMEOUT, PROBE_START, PROBE_RETRIES = 8, 5, 3
READY_PERIOD = 10  # the readiness probe gates a rollout: asked more often than the engine's 30 s
TMP_SIZE = "100Mi"  # the runtime's tmpfs /tmp, size=100m
TOKEN_KEY = "token"
# The liveness probe: alive while the launcher answers at all and says the app runs; a 503 for a
# databroker that is away makes the pod unready, not restarted (the runtime's engine restarts only
# a container that exited).
_ALIVE = ("import json, os, sys, urllib.error, urllib.request as u\n"
          "try:\n"
          "    r = u.urlopen('http://127.0.0.1:%s/health' % os.environ.get('SDV_HEALTH_PORT', '8080'), timeout=5)\n"
          "except urllib.error.HTTPError as e:\n"
          "    r = e\n"
          "except OSError as e:\n"
          "    sys.exit('health endpoint: %s' % e)\n"
          "body = r.read().decode(errors='replace')\n"
          "print(body)\n"
          "try:\n"
          "    running = json.loads(body).get('app_running') is not False\n"
          "except (ValueError, AttributeError):\n"
          "    running = True\n"
          "sys.exit(0 if running else 1)\n")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_endpoint(text: str) -> Endpoint | None:
    """``HOST:PORT`` (a scheme such as grpc:// and a trailing slash are dropped), or None."""
    host, colon, port = text.split("://", 1)[-1].rstrip("/").rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return Endpoint(host, int(port))


@dataclass(frozen=True)
class PodPlan:
    """What the container needs besides its package: where its databroker is, and how it is reached."""

    name: str
    image: str
    broker: Endpoint
    host_network: bool  # the node's own databroker on 127.0.0.1, as the runtime's network "host"
    health_port: int
    token_secret: str  # an optional Secret whose ``token`` becomes KUKSA_TOKEN


def health_port_for(package_id: str, host_network: bool) -> int:
    """On the pod's own network the image's port; on the node's, one per package (the runtime picks
    a free one per container), so the old and the new version can run side by side on one node."""
    return 20000 + int(package_id[4:12], 16) % 1000 if host_network else DEFAULT_HEALTH_PORT


def quantities(limits: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The package's limits as Kubernetes quantities, and the requests (half, as compose's reservations);
    PydanticCustomError for a value the packager would not have written."""
    memory = parse_memory(str(limits.get("memory", "512MB")))
    millicores = round(parse_cpu(str(limits.get("cpu", "0.5"))) * 1000)
    mebibytes = memory / 2**20
    limit_memory = f"{int(mebibytes)}Mi" if mebibytes.is_integer() else str(memory)
    return ({"memory": limit_memory, "cpu": f"{millicores}m"},
            {"memory": f"{max(math.floor(mebibytes / 2), 1)}Mi", "cpu": f"{max(millicores // 2, 1)}m"})


def _probe(command: list[str], period: int, initial: int) -> dict[str, Any]:
    return {"exec": {"command": command}, "initialDelaySeconds": initial, "periodSeconds": period,
            "timeoutSeconds": PROBE_TIMEOUT, "failureThreshold": PROBE_RETRIES}


def environment(manifest: dict[str, Any], plan: PodPlan) -> list[dict[str, Any]]:
    """The runtime's variables (the image's ENV holds the package's launch.json defaults)."""
    mqtt = Endpoint(plan.broker.host, MQTT_PORT)
    values = {
        "KUKSA_ENDPOINT": str(plan.broker),
        "SDV_VEHICLEDATABROKER_ADDRESS": f"grpc://{plan.broker}",
        "SDV_MQTT_ADDRESS": f"mqtt://{mqtt}",
        "VSS_VERSION": str((manifest.get("kuksaConfig") or {}).get("vssVersion", "")),
        "APP_NAME": str(manifest["name"]),
        "APP_VERSION": str(manifest["version"]),
        "SDV_HEALTH_PORT": str(plan.health_port),
    }
    env: list[dict[str, Any]] = [{"name": key, "value": value} for key, value in values.items()]
    env.append({"name": "KUKSA_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": plan.token_secret, "key": TOKEN_KEY, "optional": True}}})
    return env


def pod_spec(manifest: dict[str, Any], plan: PodPlan, node_selector: dict[str, str],
             arches: list[str]) -> dict[str, Any]:
    """The pod: user 1000, read-only root, /tmp in memory, no privilege escalation, no capabilities,
    the runtime's default seccomp profile, the package's limits, and health probes inside the container."""
    limits, requests = quantities((manifest.get("deployment") or {}).get("resourceLimits") or {})
    container: dict[str, Any] = {
        "name": "app",
        "image": plan.image,
        "imagePullPolicy": "IfNotPresent",  # an image imported into the node (k3s ctr images import) is used
        "env": environment(manifest, plan),
        "resources": {"limits": limits, "requests": requests},
        "livenessProbe": _probe([f"{VENV}/bin/python", "-c", _ALIVE], 30, PROBE_START),
        "readinessProbe": _probe(health_command(), READY_PERIOD, 0),
        "securityContext": {
            "runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True, "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False, "privileged": False, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    if plan.host_network:
        # Declared so the scheduler never puts two pods with the same port on one node.
        container["ports"] = [{"name": "health", "containerPort": plan.health_port, "hostPort": plan.health_port}]
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,  # the app has no business with the cluster's API
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": TMP_SIZE}}],
        "restartPolicy": "Always",
    }
    if plan.host_network:
        spec["hostNetwork"] = True
        spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    if node_selector:
        spec["nodeSelector"] = node_selector
    if arches:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": arches}]}]}}}
    return spec
