"""``sdv-studio export kubernetes PACKAGE --output DIR``: a Docker-runtime package as Kubernetes / K3s
manifests, with the image's build context and a README."""

from __future__ import annotations

import argparse
import json
import sys

from sdv_studio.cli.device_options import add_json_option
from sdv_studio.core.errors import InvalidInput
from sdv_studio.paths import user_path


def add_parser(tools: argparse._SubParsersAction) -> None:
    kube = tools.add_parser(
        "kubernetes", help="Kubernetes / K3s manifests that run a Docker-runtime package",
        description="Write a Deployment (and, where the package needs them, a ConfigMap of its VSS catalogue and a "
        "NetworkPolicy) that runs PACKAGE's container image as SDV Studio's container runtime does, with a "
        "kustomization.yaml, the image's build context (image/) and a README saying how to build the image, bring it "
        "to K3s nodes and apply: `kubectl apply -k DIR`.",
    )
    kube.add_argument("package", metavar="PACKAGE", help="a package file or a packageId from the local store")
    kube.add_argument("--output", "-o", required=True, metavar="DIR",
                      help="the folder to write (new, empty, or an earlier export, which is replaced)")
    kube.add_argument("--namespace", "-n", metavar="NS", help="the objects' namespace (default: kubectl's current one)")
    kube.add_argument("--name", metavar="NAME", help="the objects' name (default: the package's name)")
    kube.add_argument("--image", metavar="REGISTRY/NAME:TAG",
                      help="the image the pods run (default: sdv-studio/NAME:VERSION-ID, as SDV Studio tags it)")
    kube.add_argument("--node-selector", action="append", default=[], metavar="KEY=VALUE",
                      help="run only on nodes with this label, e.g. kubernetes.io/hostname=zone-front (repeatable)")
    kube.add_argument("--replicas", type=int, default=1, metavar="N", help="pods to run (default 1)")
    kube.add_argument("--waves", metavar="1,25%%,100%%",
                      help="cumulative counts or percentages of the replicas: the first wave is the rolling update's "
                           "step (default: every replica at once)")
    kube.add_argument("--max-failed", default="0", metavar="N|P%%",
                      help="accepted for symmetry with deploy; Kubernetes stops a rollout at any pod that does not "
                           "become ready (a note says so when it is not 0)")
    kube.add_argument("--broker", metavar="HOST:PORT",
                      help="the databroker's address as pods reach it (default: the package's customBrokerUrl, else "
                           "127.0.0.1:55555 on the node, through the node's network)")
    kube.add_argument("--hot-swap", action=argparse.BooleanOptionalAction, default=None,
                      help="start new pods beside the old ones and remove those when the new are ready "
                           "(default: as the package's deployment.hotSwap says)")
    kube.add_argument("--grace", type=float, default=3.0, metavar="S",
                      help="seconds a new pod must stay ready before it counts (minReadySeconds; default 3)")
    add_json_option(kube)


def run_kubernetes(args: argparse.Namespace) -> int:
    from sdv_studio.cli.export_rollout import rollout_of
    from sdv_studio.core.deploy.package_file import open_package
    from sdv_studio.core.export.kubernetes import KubeOptions, export_kubernetes

    problems: list[str] = []  # every one at once: the package's and these options'; the export adds its own
    try:
        package = open_package(args.package)
    except InvalidInput as exc:
        problems += exc.problems
    rollout = rollout_of(args, problems)
    if args.replicas < 1:
        problems.append("--replicas: must be 1 or more")
    if args.grace < 0:
        problems.append("--grace: must not be negative")
    if problems:
        raise InvalidInput(problems)
    options = KubeOptions(name=args.name, namespace=args.namespace, image=args.image, node_selector=args.node_selector,
                          replicas=args.replicas, broker=args.broker, hot_swap=args.hot_swap,
                          grace_seconds=args.grace, rollout=rollout)
    done = export_kubernetes(package, user_path(args.output), options)
    for note in done.notes:
        print(note, file=sys.stderr)
    if args.json:
        print(json.dumps({"output": str(done.output), "kustomization": str(done.kustomization),
                          "manifests": [str(m) for m in done.manifests], "buildContext": str(done.context),
                          "dockerfile": str(done.dockerfile), "image": done.image, "name": done.name,
                          "namespace": done.namespace, "strategy": done.strategy, "notes": done.notes}, indent=2))
    else:
        print(f"wrote {done.output}: {len(done.manifests)} manifest(s) for {done.name}, image {done.image} "
              f"(build steps in {done.output / 'README.md'})", file=sys.stderr)
        print(f"docker build --network none -f {done.dockerfile} -t {done.image} {done.context}")
        print(f"kubectl apply -k {done.output}")
    return 0
