"""The Kubernetes objects of an export, as plain dicts: the Deployment (its rollout from --waves),
the VSS catalogue's ConfigMap, the NetworkPolicy of a sandboxed app. No Namespace: `kubectl delete -k`
would delete it, and whatever else it holds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sdv_studio.core.defaults import MQTT_PORT
from sdv_studio.core.deploy.waves import MaxFailed, Reach, wave_sizes
from sdv_studio.core.export.kube_pod import Endpoint

CONFIGMAP_MAX = 1024 * 1024  # the API server's limit on a ConfigMap's data
VSS_KEY = "vss.json"
PROGRESS_DEADLINE = 600  # Kubernetes' own default, said in the manifest because the notes name it
_ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}  # uname -m -> the node's kubernetes.io/arch


@dataclass(frozen=True)
class Strategy:
    strategy: dict[str, Any]
    notes: list[str]


def node_arches(platforms: list[str]) -> list[str]:
    return sorted({_ARCHES[p] for p in platforms if p in _ARCHES})


def meta(name: str, namespace: str | None, labels: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name}
    if namespace:
        data["namespace"] = namespace
    data["labels"] = labels
    return data


def rollout_strategy(waves: list[Reach], waves_text: str, max_failed: MaxFailed, replicas: int,
                     hot_swap: bool) -> Strategy:
    """A rolling update that replaces the first wave's number of pods at a time: beside the old ones
    (maxSurge, maxUnavailable 0) for a hot swap, else in their place (maxUnavailable, maxSurge 0).
    And what of --waves and --max-failed Kubernetes has no equivalent for."""
    sizes = wave_sizes(waves, replicas) if waves else [replicas]
    step = sizes[0]
    update = {"maxSurge": step, "maxUnavailable": 0} if hot_swap else {"maxSurge": 0, "maxUnavailable": step}
    notes = []
    if len(set(sizes)) > 1:
        notes.append(f"--waves {waves_text}: Kubernetes replaces pods in steps of one size, so {replicas} "
                     f"replica(s) roll out {step} at a time (the first wave); the later waves' sizes "
                     f"{sizes[1:]} do not map")
    if max_failed.count or max_failed.percent:
        notes.append(f"--max-failed {max_failed}: does not map; a rollout stops at the first pod that does not "
                     f"become ready and is reported failed after progressDeadlineSeconds ({PROGRESS_DEADLINE})")
    return Strategy({"type": "RollingUpdate", "rollingUpdate": update}, notes)


def deployment(name: str, namespace: str | None, labels: dict[str, str], replicas: int, grace: float,
               strategy: Strategy, pod: dict[str, Any]) -> dict[str, Any]:
    """The app's Deployment; a new pod counts as available after staying ready for --grace seconds."""
    selector = {"app.kubernetes.io/name": labels["app.kubernetes.io/name"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, namespace, labels),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "strategy": strategy.strategy,
            "minReadySeconds": math.ceil(grace),
            "progressDeadlineSeconds": max(PROGRESS_DEADLINE, math.ceil(grace) + 1),
            "revisionHistoryLimit": 3,  # the runtime keeps the newest three images for rollback
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def vss_configmap(name: str, namespace: str | None, labels: dict[str, str], catalogue: bytes) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, namespace, labels),
            "data": {VSS_KEY: catalogue.decode()}}


def network_policy(name: str, namespace: str | None, labels: dict[str, str],
                   broker: Endpoint) -> dict[str, Any]:
    """No connection in; out, only to the databroker and its MQTT port (and DNS for a broker named by
    host name, which a NetworkPolicy cannot name: then those ports are open to any address)."""
    ports = [{"protocol": "TCP", "port": broker.port}, {"protocol": "TCP", "port": MQTT_PORT}]
    rule: dict[str, Any] = {"ports": ports}
    egress = [rule]
    if broker.ip is not None:
        rule["to"] = [{"ipBlock": {"cidr": f"{broker.ip}/{broker.ip.max_prefixlen}"}}]
    else:
        egress.append({"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(name, namespace, labels),
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": labels["app.kubernetes.io/name"]}},
                     "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": egress}}


def kustomization(resources: list[str]) -> dict[str, Any]:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}
