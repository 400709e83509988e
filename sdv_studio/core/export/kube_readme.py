"""The README.md of a Kubernetes export: how to build the image, bring it to K3s nodes, apply the
manifests and follow or undo a rollout, and what of SDV Studio's deployment does not map."""

from __future__ import annotations

from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.export.kube_manifests import VSS_KEY
from sdv_studio.core.export.kube_pod import TOKEN_KEY, PodPlan

# What differs from SDV Studio's container runtime whatever the options.
_ALWAYS = [
    "Rollback: Kubernetes does not roll back by itself. During a hot swap (maxUnavailable 0) the old pods keep "
    "running until the new ones are ready; `kubectl rollout undo` goes back to the previous version.",
    "Restart policy: the runtime's `unless-stopped` is a Deployment's `Always`; stop the app with "
    "`kubectl scale --replicas 0`.",
    "/tmp: an in-memory emptyDir of 100Mi; Kubernetes cannot mount it `noexec` as the runtime's tmpfs is.",
    "The databroker's CA (KUKSA_CA_FILE) and the metrics SDV Studio's device agent collects are not part of the "
    "export; `sdv-studio status`, `logs` and `metrics` do not see pods: use `kubectl`.",
]


def readme(package: PackageFile, name: str, namespace: str | None, image: str, resources: list[str],
           plan: PodPlan, notes: list[str]) -> str:
    ns = f" -n {namespace}" if namespace else ""
    create_ns = f"kubectl create namespace {namespace}   # once, unless it exists\n" if namespace else ""
    listed = "".join(f"- `{r}`\n" for r in resources)
    if any(r.endswith("configmap-vss.yaml") for r in resources):
        listed += (f"\nThe ConfigMap holds the package's own VSS catalogue (key `{VSS_KEY}`): mount it into the "
                   "cluster's KUKSA databroker and start that with `--vss` naming the file, as SDV Studio does for "
                   "the databroker it starts on a device.\n")
    differs = "".join(f"- {line}\n" for line in [*notes, *_ALWAYS])
    return f"""# {package.name} {package.version} on Kubernetes / K3s

Written by `sdv-studio export kubernetes` from package {package.package_id}: the app runs as SDV
Studio's container runtime runs it on a device (same image, environment, limits, health check and
security profile). SDV Studio's tests check manifests of this form against the Kubernetes API schemas
(1.30 and current) and build and run the image; applying them to a cluster is yours.

Manifests (`kubectl apply -k .` applies them all through `kustomization.yaml`):
{listed}
## 1. Build the image

`image/` is the build context: the package unpacked, with its `docker/Dockerfile`. Everything installs
from the wheels in the package, so the build needs no network beyond the base image. The wheels are
chosen for the building machine's architecture: build on (or emulate, `docker buildx --platform
linux/arm64`) the nodes' one.

```sh
docker build --network none -f image/docker/Dockerfile -t {image} image
```
(`podman build` takes the same arguments.)

## 2. Bring it to the nodes

K3s without a registry, on every node that may run the app:
```sh
docker save {image} -o {name}.tar
sudo k3s ctr images import {name}.tar
```
With a registry: export again with `--image REGISTRY/NAME:TAG`, then `docker push` that tag.
The pod's `imagePullPolicy` is `IfNotPresent`, so an imported image is used as it is.

## 3. Apply and follow

```sh
{create_ns}kubectl apply -k .                 # or: kubectl apply -f manifests/
kubectl{ns} rollout status deployment/{name}
kubectl{ns} logs deployment/{name}
kubectl{ns} rollout undo deployment/{name}   # back to the previous version
```

The app talks to the databroker at `{plan.broker}`. If it needs a token, put it in a Secret
`{plan.token_secret}` under the key `{TOKEN_KEY}` (it becomes `KUKSA_TOKEN`; without the Secret the
app starts without one):
```sh
kubectl{ns} create secret generic {plan.token_secret} --from-file={TOKEN_KEY}=broker.jwt
```

## What does not map

{differs}"""
