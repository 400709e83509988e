"""``sdv-studio export kubernetes``: a Docker-runtime package as Kubernetes manifests (K3s too), for
clusters such as dreamKIT's zonal setup, running the app as SDV Studio's container runtime does.

The folder written holds ``kustomization.yaml``, ``manifests/`` (the Deployment; the VSS catalogue's
ConfigMap when the package carries its own; a NetworkPolicy for a sandboxed app), ``image/`` (the
image's build context: the package unpacked, its ``docker/Dockerfile`` included) and ``README.md``
(how to build the image, bring it to the nodes and apply). Writing it again replaces an earlier
export; any other non-empty folder is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic_core import PydanticCustomError

from sdv_studio.core.defaults import DATABROKER_PORT
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.runtimes.container import image_tag
from sdv_studio.core.deploy.security.sandbox import isolates, sandbox_of
from sdv_studio.core.deploy.service import package_hot_swap
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.export.ansible import Rollout
from sdv_studio.core.export.kube_manifests import (
    CONFIGMAP_MAX,
    deployment,
    kustomization,
    network_policy,
    node_arches,
    rollout_strategy,
    vss_configmap,
)
from sdv_studio.core.export.kube_names import derived_name, dns_label_problem, parse_selector
from sdv_studio.core.export.kube_pod import Endpoint, PodPlan, health_port_for, parse_endpoint, pod_spec, quantities
from sdv_studio.core.export.kube_readme import readme
from sdv_studio.core.export.output_folder import clear_earlier_export, refused_output
from sdv_studio.core.export.yaml_text import dump
from sdv_studio.core.packaging.docker import valid_image_reference

MARK = "# Written by sdv-studio export kubernetes"
KUSTOMIZATION = "kustomization.yaml"
MANIFESTS = "manifests"
CONTEXT = "image"
README = "README.md"
DOCKERFILE = "docker/Dockerfile"
# Everything an export writes at the top of its folder: what is replaced when it is written again.
_WRITTEN = (KUSTOMIZATION, MANIFESTS, CONTEXT, README)


class KubernetesInvalid(InvalidInput):
    """What stops a Kubernetes export before anything is written; one line per problem."""


@dataclass(frozen=True)
class KubeOptions:
    name: str | None = None  # the objects' name; default the package's
    namespace: str | None = None  # default: the one kubectl uses
    image: str | None = None  # default: the tag SDV Studio's runtime gives the image on a device
    node_selector: list[str] = field(default_factory=list)  # KEY=VALUE items, as given
    replicas: int = 1
    broker: str | None = None  # HOST:PORT; default the package's customBrokerUrl, else the node's 127.0.0.1:55555
    hot_swap: bool | None = None  # None: as the package's deployment.hotSwap says
    grace_seconds: float = 3.0
    rollout: Rollout = field(default_factory=Rollout)


@dataclass(frozen=True)
class KubernetesExport:
    output: Path
    kustomization: Path
    manifests: list[Path]
    context: Path
    dockerfile: Path
    image: str
    name: str
    namespace: str | None
    strategy: dict[str, object]
    notes: list[str]  # what of the deployment does not map to Kubernetes, for this package and these options


def export_kubernetes(package: PackageFile, output: Path, options: KubeOptions) -> KubernetesExport:
    """Writes the export; KubernetesInvalid (every problem at once) for what the user must change first."""
    problems: list[str] = []
    notes: list[str] = []
    manifest = package.manifest
    if manifest.get("runtimeMode", "native") != "docker":
        problems.append(f"{package.path}: runs natively (runtimeMode native); the Kubernetes export runs the "
                        "package's container image: package it with --runtime docker")
    name = options.name or package.name
    if options.name and (problem := dns_label_problem(options.name)):
        problems.append(f"--name {options.name}: {problem}")
    if options.namespace and (problem := dns_label_problem(options.namespace)):
        problems.append(f"--namespace {options.namespace}: {problem}")
    selector, selector_problems = parse_selector(options.node_selector)
    problems += selector_problems
    image = options.image or image_tag(package)
    if not valid_image_reference(image):
        problems.append(f"--image {image}: not an image reference like registry.example.com/team/app:1.0 "
                        "(lowercase repository, optional tag)")
    broker, broker_problem = _broker(manifest, options.broker)
    if broker_problem:
        problems.append(broker_problem)
    sandbox = sandbox_of(manifest)
    if broker.loopback and isolates(sandbox):
        isolation = (f"sandboxLevel {sandbox}: the databroker {broker} is the node's own, so the pod shares the "
                     "node's network (hostNetwork), which no NetworkPolicy reaches")
        if sandbox == "military":
            problems.append(f"{isolation}; refused: give --broker with the databroker's cluster address")
        else:
            notes.append(f"{isolation}: not isolated; give --broker with the databroker's cluster address for "
                         "a NetworkPolicy that lets the app reach it alone")
    try:
        quantities((manifest.get("deployment") or {}).get("resourceLimits") or {})
    except PydanticCustomError as exc:
        problems.append(f"{package.path}: manifest.json: deployment.resourceLimits: {exc.message()}")
    if (refusal := refused_output(output, KUSTOMIZATION, MARK)) is not None:
        problems.append(refusal)
    if problems:
        raise KubernetesInvalid(problems)

    if not options.broker and not (manifest.get("kuksaConfig") or {}).get("customBrokerUrl"):
        notes.append(f"the app is wired to the node's databroker at {broker} (hostNetwork, as SDV Studio's "
                     "runtime on a device); SDV Studio's own databroker is not started in a cluster: the node must "
                     "run one, or give --broker with the databroker's cluster address")
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/version": package.version,
              "app.kubernetes.io/managed-by": "sdv-studio", "sdv-studio/package": package.package_id}
    plan = PodPlan(name, image, broker, broker.loopback, health_port_for(package.package_id, broker.loopback),
                   derived_name(name, "-kuksa"))
    pod = pod_spec(manifest, plan, selector, node_arches(list(manifest.get("platforms") or [])))
    hot_swap = options.hot_swap if options.hot_swap is not None else package_hot_swap(package)
    rollout = options.rollout
    strategy = rollout_strategy(rollout.waves, rollout.waves_text, rollout.max_failed, options.replicas, hot_swap)
    notes += strategy.notes
    objects = {"deployment.yaml": deployment(name, options.namespace, labels, options.replicas,
                                             options.grace_seconds, strategy, pod)}
    catalogue = package.entries.get("support/vss.json")
    if catalogue is not None and len(catalogue) <= CONFIGMAP_MAX:
        objects["configmap-vss.yaml"] = vss_configmap(derived_name(name, "-vss"), options.namespace, labels,
                                                      catalogue)
    elif catalogue is not None:
        notes.append(f"the package's VSS catalogue (support/vss.json, {len(catalogue)} bytes) is over a "
                     f"ConfigMap's {CONFIGMAP_MAX} bytes: it is in {CONTEXT}/support/vss.json, not in a ConfigMap")
    if isolates(sandbox) and not broker.loopback:
        objects["networkpolicy.yaml"] = network_policy(name, options.namespace, labels, broker)
        if broker.ip is None:
            notes.append(f"NetworkPolicy: the databroker is named by host name ({broker.host}), which a "
                         "NetworkPolicy cannot name: the app may reach its ports on any address, and DNS")

    resources = [f"{MANIFESTS}/{file}" for file in objects]
    texts = {f"{MANIFESTS}/{file}": f"{MARK}.\n{dump(obj)}" for file, obj in objects.items()}
    texts[KUSTOMIZATION] = f"{MARK}: `kubectl apply -k` this folder.\n{dump(kustomization(resources))}"
    texts[README] = readme(package, name, options.namespace, image, resources, plan, notes)
    clear_earlier_export(output, _WRITTEN)
    for relative, text in texts.items():
        path = output / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for entry, data in package.entries.items():  # names checked by PackageFile: none leaves the folder
        path = output / CONTEXT / entry
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return KubernetesExport(output, output / KUSTOMIZATION, [output / r for r in resources], output / CONTEXT,
                            output / CONTEXT / DOCKERFILE, image, name, options.namespace, strategy.strategy, notes)


def _broker(manifest: dict[str, object], given: str | None) -> tuple[Endpoint, str | None]:
    """The databroker the app is wired to, and the problem with the address when there is one."""
    kuksa = manifest.get("kuksaConfig")
    custom = kuksa.get("customBrokerUrl") if isinstance(kuksa, dict) else None
    text, where = (given, "--broker") if given else (custom, "manifest.json: kuksaConfig.customBrokerUrl")
    default = Endpoint("127.0.0.1", DATABROKER_PORT)
    if not text:
        return default, None
    endpoint = parse_endpoint(str(text))
    if endpoint is None:
        return default, f"{where} {text}: must be HOST:PORT, e.g. kuksa-databroker.vehicle.svc:55555"
    return endpoint, None


