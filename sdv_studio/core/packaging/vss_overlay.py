"""An app's own signals: ``.vspec`` overlays compiled with vss-tools and merged into a release.

A project may carry ``.vspec`` files (VSS's own overlay format) that add signals, e.g.
``Vehicle.Cabin.DogMode`` (a boolean actuator). Each is compiled with vss-tools (from the same
cached tool venv as the model generator) against just the branches it hangs from, and the result is
merged into the chosen release's JSON catalogue. That effective catalogue is what the ``vehicle``
model is generated from and what the package carries for the device's fallback databroker.

Units in an overlay are taken as written (the release JSON carries no unit definitions to check
them against); vss-tools checks everything else: node types, datatypes, allowed values, structure.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sdv_studio.child_env import child_env
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.packaging import vehicle_model

MAX_OVERLAY_BYTES = 1024 * 1024
MAX_OVERLAYS = 16
_MERGE_FORMAT = 1  # part of the cache key: bump when the merge changes what it writes
Progress = Callable[[str], None]

# A node's definition starts a line: "Vehicle.Cabin.DogMode:" (VSS puts nothing else on that line).
_NODE = re.compile(r"^([A-Za-z_][\w.]*)\s*:\s*(?:#.*)?$", re.MULTILINE)
_UNIT = re.compile(r"^\s+unit\s*:\s*['\"]?([^'\"\s#]+)", re.MULTILINE)
_YAML_AT = re.compile(r"line (\d+), column (\d+)")
_YAML_ERROR = re.compile(r"^yaml\.\w+\.\w+Error: (.+)$", re.MULTILINE)
_MODEL_ERROR = re.compile(r"'([\w.]+)' has \d+ model error")
_MESSAGE = re.compile(r"""'msg': (?:"([^"]*)"|'([^']*)')""")
_QUANTITY = "sdv-studio-any"
_ANY_DATATYPE = '["numeric", "string", "boolean"]'  # units are not checked against datatypes


class OverlayError(InvalidInput):
    """The overlay itself is wrong; one ``file:line: reason`` per problem."""


def overlay_files(files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """The project's ``.vspec`` files, in path order."""
    found = [(path, data) for path, data in sorted(files.items()) if path.endswith(".vspec")]
    problems = [f"{path}: larger than {MAX_OVERLAY_BYTES // 1024}KB" for path, data in found
                if len(data) > MAX_OVERLAY_BYTES]
    if len(found) > MAX_OVERLAYS:
        problems.append(f"vss: more than {MAX_OVERLAYS} .vspec overlays in the project")
    if problems:
        raise OverlayError(problems)
    return found


def effective_catalogue(release: Path, overlays: Sequence[tuple[str, bytes]], progress: Progress) -> Path:
    """The release's catalogue with the overlays merged in (cached by release, overlays and tool)."""
    if not overlays:
        return release
    key = hashlib.sha256(release.read_bytes())
    for path, data in overlays:
        key.update(f"\0{path}\0".encode() + data)
    key.update(f"{vehicle_model.VSS_TOOLS}\0{_MERGE_FORMAT}".encode())
    target = vehicle_model.tools_root() / "catalogues" / f"{key.hexdigest()[:24]}.json"
    if target.is_file():
        return target
    tree = json.loads(release.read_bytes())
    for label, data in overlays:
        progress(f"compiling the VSS overlay {label} with vss-tools")
        _merge(tree, _compile(label, data, tree, progress))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    partial.write_text(json.dumps(tree, indent=1, sort_keys=True), encoding="utf-8")
    partial.replace(target)
    return target


def _compile(label: str, data: bytes, release: dict[str, Any], progress: Progress) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OverlayError([f"{label}: not UTF-8 ({exc.reason})"]) from exc
    nodes = {m.group(1): text.count("\n", 0, m.start()) + 1 for m in _NODE.finditer(text)}
    if not nodes:
        raise OverlayError([f"{label}:1: no VSS node definitions (a line `Vehicle.Some.Signal:`)"])
    vspec = vehicle_model.vss_tool(progress)
    with tempfile.TemporaryDirectory(prefix="sdv-vss-") as tmp:
        work = Path(tmp)
        (work / "base.vspec").write_text(_base_vspec(nodes, release), encoding="utf-8")
        (work / "overlay.vspec").write_text(text, encoding="utf-8")
        (work / "units.yaml").write_text(_units_yaml(text, release), encoding="utf-8")
        (work / "quantities.yaml").write_text(f"{_QUANTITY}:\n  definition: any quantity\n", encoding="utf-8")
        try:
            done = subprocess.run(
                [str(vspec), "export", "json", "-s", "base.vspec", "-l", "overlay.vspec", "-u", "units.yaml",
                 "-q", "quantities.yaml", "-o", "out.json"],
                cwd=work, capture_output=True, text=True, check=False, timeout=120,
                env={**child_env(), "COLUMNS": "1000", "NO_COLOR": "1"})  # one message per line
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise vehicle_model.ModelError(f"vss: vss-tools could not compile {label}: {exc}") from exc
        if done.returncode != 0 or not (work / "out.json").is_file():
            raise OverlayError(_problems(label, f"{done.stdout}\n{done.stderr}", nodes))
        compiled: dict[str, Any] = json.loads((work / "out.json").read_text(encoding="utf-8"))
    return compiled


def _base_vspec(nodes: dict[str, int], release: dict[str, Any]) -> str:
    """The branches the overlay's nodes hang from and does not define itself, as the release has them."""
    needed: dict[str, None] = {}
    for name in nodes:
        parts = name.split(".")
        for depth in range(1, len(parts)):
            ancestor = ".".join(parts[:depth])
            if ancestor not in nodes:
                needed[ancestor] = None
    out = []
    for name in sorted(needed, key=lambda n: n.count(".")):
        node = _find(release, name)
        description = (node or {}).get("description") or f"{name} (added by an overlay)"
        out.append(f"{name}:\n  type: branch\n  description: {json.dumps(str(description))}\n")
    return "\n".join(out)


def _units_yaml(text: str, release: dict[str, Any]) -> str:
    units = sorted(set(_UNIT.findall(text)) | set(_release_units(release)))
    return "".join(f"{json.dumps(u)}:\n  definition: {json.dumps(u)}\n  unit: {json.dumps(u)}\n"
                   f"  quantity: {_QUANTITY}\n  allowed-datatypes: {_ANY_DATATYPE}\n" for u in units)


def _release_units(node: dict[str, Any]) -> Iterator[str]:
    for child in node.values():
        if isinstance(child, dict):
            if isinstance(child.get("unit"), str):
                yield child["unit"]
            yield from _release_units(child.get("children") or {})


def _find(tree: dict[str, Any], name: str) -> dict[str, Any] | None:
    parts = name.split(".")
    node = tree.get(parts[0])
    for part in parts[1:]:
        node = ((node or {}).get("children") or {}).get(part)
    return node if isinstance(node, dict) else None


def _merge(into: dict[str, Any], overlay: dict[str, Any]) -> None:
    """Overlay nodes into the release tree: new nodes are added, existing leaves take the overlay's
    attributes, existing branches keep theirs and gain the overlay's children."""
    for name, node in overlay.items():
        existing = into.get(name)
        if not isinstance(existing, dict):
            into[name] = copy.deepcopy(node)
        elif node.get("type") == "branch" and existing.get("type") == "branch":
            _merge(existing.setdefault("children", {}), node.get("children") or {})
        else:
            existing.update(copy.deepcopy(node))


def _problems(label: str, output: str, nodes: dict[str, int]) -> list[str]:
    """vss-tools' complaint as ``file:line[:col]: reason``."""
    yaml_error = _YAML_ERROR.search(output)
    if yaml_error:
        where = _YAML_AT.findall(output[yaml_error.end():]) or _YAML_AT.findall(output)
        line, column = where[-1] if where else ("1", "1")
        return [f"{label}:{line}:{column}: {yaml_error.group(1)}"]
    failing = _MODEL_ERROR.search(output)
    if failing:
        name = failing.group(1)
        messages = [a or b for a, b in _MESSAGE.findall(output[failing.end():])] or ["invalid"]
        return [f"{label}:{nodes.get(name, 1)}: {name}: {message}" for message in dict.fromkeys(messages)]
    lines = [ln.strip() for ln in output.splitlines() if ln.strip() and not ln.lstrip().startswith("File ")]
    return [f"{label}: vss-tools: {lines[-1] if lines else 'failed'}"]
