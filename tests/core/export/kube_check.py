"""Reading a Kubernetes export back: every manifest parsed by PyYAML and validated strictly (unknown
fields rejected) against the schemas of the newest Kubernetes kubernetes-validate knows and of 1.30
(a K3s release line dreamKIT-era clusters run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def validated(path: Path) -> dict[str, Any]:
    """The manifest at ``path``, after it passed validation against every version in VERSIONS."""
    manifest = yaml.safe_load(path.read_text())
    assert isinstance(manifest, dict)
    for version in VERSIONS:
        kubernetes_validate.validate(manifest, version, strict=True)
    return manifest


def export_manifests(output: Path) -> dict[str, dict[str, Any]]:
    """Every manifest the export's kustomization lists, validated, by kind."""
    kustomization = yaml.safe_load((output / "kustomization.yaml").read_text())
    manifests = [validated(output / resource) for resource in kustomization["resources"]]
    assert sorted(p.relative_to(output).as_posix() for p in (output / "manifests").iterdir()) == sorted(
        kustomization["resources"])
    return {m["kind"]: m for m in manifests}
