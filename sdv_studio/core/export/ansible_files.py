"""What an Ansible export sends to devices, and the variables that tell its playbook about them:
the agent (as the engine's bundle), the package, SDV Studio's databroker for every Python and
architecture the package targets, for devices that have no databroker of their own, and the app's
databroker credentials (ansible_credentials)."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sdv_studio.agent import AGENT_DIR
from sdv_studio.core.defaults import DATABROKER_PORT, MQTT_PORT
from sdv_studio.core.deploy.agent_link.client import AGENT_DIR_SHELL, AGENT_PATH, agent_bundle
from sdv_studio.core.deploy.kuksa_wiring import broker_catalogue, broker_service_args, broker_venv_args
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.package_file import PackageFile, major_minor
from sdv_studio.core.device_wheels.broker_bundle import BrokerBundle, broker_bundle
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.export.ansible_credentials import credentials, may_be_ours

BROKER_WHEELS = "files/broker/wheels"

# Unpacking the databroker's wheels: Python is on every device (the agent needs it), tar may not be.
# argv: the tar, the folder.
_UNPACK = ('import sys, tarfile; tar = tarfile.open(sys.argv[1]); '
           'tar.extractall(sys.argv[2], **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))')
# The bootstrap's own installer (sdv_studio/agent/bootstrap.py ``install``), run on the uploaded bundle:
# argv is the installer, the agent's path under the home, the bundle.
_INSTALL = ('import os, runpy, sys; runpy.run_path(sys.argv[1])["install"]'
            '(os.path.join(os.path.expanduser("~"), sys.argv[2]), open(sys.argv[3], "rb").read())')


class WiringInvalid(InvalidInput):
    """The package names no databroker and lets SDV Studio neither find nor start one."""


@dataclass(frozen=True)
class Payload:
    files: dict[str, bytes]  # path inside the export -> content
    variables: dict[str, Any]  # vars/deployment.yml
    secrets: str  # vars/credentials.yml: the app's token
    token_expires: datetime | None  # of a token minted for the app
    not_enforced: list[str]  # what the package's data access asks that the devices will not enforce


def combinations(package: PackageFile) -> list[tuple[str, str]]:
    """The (Python, arch) pairs the package can run on: its resolved wheel sets, or, for an app without
    requirements, every Python and platform it was packaged for."""
    if package.wheel_sets:
        return sorted((str(r["python"]), str(r["platform"])) for r in package.wheel_sets.values() if "error" not in r)
    manifest = package.manifest
    pythons = manifest.get("pythonVersions") or [manifest.get("pythonVersion")]
    return sorted((major_minor(str(p)), str(a)) for p in pythons if p for a in manifest.get("platforms") or [])


def kuksa_variables(manifest: dict[str, Any], given: str | None) -> dict[str, Any]:
    """What the playbook needs to wire the app as core.deploy.kuksa_wiring.choose does: a broker fixed
    now (given, or the package's customBrokerUrl), else whether to use one listening on the device
    (detect) and whether to start SDV Studio's (fallback); and whether the device is asked if the
    broker there is SDV Studio's (recognise). Detection there is by the port alone."""
    kuksa = manifest.get("kuksaConfig") or {}
    fixed = given or kuksa.get("customBrokerUrl")
    how = "given" if given else "from the package" if fixed else None
    detect = kuksa.get("brokerAutoDetect", True) is not False
    fallback = bool(kuksa.get("fallbackBroker", True))
    if not fixed and not detect and not fallback:
        raise WiringInvalid("the package turns databroker detection and SDV Studio's databroker off and names no "
                            "broker (kuksaConfig.customBrokerUrl): give one with --broker HOST:PORT")
    broker = str(fixed).split("://", 1)[-1].rstrip("/") if fixed else None
    return {"broker": broker, "how": how, "detect": detect, "fallback": fallback and not fixed,
            "recognise": may_be_ours(broker),
            "port": DATABROKER_PORT, "mqttPort": MQTT_PORT, "mqtt": f"127.0.0.1:{MQTT_PORT}"}


def payload(package: PackageFile, options: DeployOptions, hot_swap: bool) -> Payload:
    """The files and variables; builds the databroker's bundles when a device may need them, to start
    it or to restart it with this workstation's key (WheelError when one cannot be had), and raises
    WiringInvalid as the engine would refuse the package (CredentialsInvalid: its token cannot be made)."""
    digest, bundle = agent_bundle()
    package_path = f"files/package/{package.package_id}.tar.gz"
    files = {f"files/agent/agent-{digest}.tar": bundle, package_path: package.path.read_bytes(),
             "files/agent/bootstrap.py": (AGENT_DIR / "bootstrap.py").read_bytes()}
    kuksa = kuksa_variables(package.manifest, options.broker)
    access = credentials(package, options, kuksa["broker"])
    kuksa.update(access.variables)
    files.update(access.files)
    variables: dict[str, Any] = {
        "sdv_app": {"name": package.name, "version": package.version, "packageId": package.package_id},
        "sdv_package": package_path,
        "sdv_connect_timeout": int(options.connect_timeout),
        "sdv_agent": {"command": f"python3 {AGENT_DIR_SHELL}/entrypoint.py", "path": AGENT_PATH, "digest": digest,
                      "bundle": f"files/agent/agent-{digest}.tar", "installer": "files/agent/bootstrap.py",
                      "install": _INSTALL},
        # As the engine's start arguments (core/deploy/runtimes/native.py), the broker's chosen on the device.
        "sdv_deploy": {"name": package.name, "hotSwap": hot_swap, "rollback": options.rollback,
                       "graceSeconds": options.grace_seconds, "healthTimeout": options.health_timeout,
                       "healthInterval": options.health_interval, "bootHook": True},
        "sdv_force": options.force,
        "sdv_kuksa": kuksa,
        "sdv_broker": {"bundles": {}},
    }
    if kuksa["recognise"]:
        bundles = {f"{python}-{arch}": broker_bundle(python, arch) for python, arch in combinations(package)}
        files.update(_broker_files(package, bundles, variables, str(kuksa["keyFile"])))
    return Payload(files, variables, access.secrets, access.token_expires, access.not_enforced)


def _broker_files(package: PackageFile, bundles: dict[str, BrokerBundle], variables: dict[str, Any],
                  key_file: str) -> dict[str, bytes]:
    """SDV Studio's databroker: one tar of wheels per combination (a device is sent its own in one
    file: one copy rather than one per wheel), the catalogue it serves, and the agent calls that install
    and start it (templated with the device's combination and uploads folder), verifying tokens with
    the public key at ``key_file`` under the uploads folder."""
    catalogue, vss_name = broker_catalogue(package.manifest, package.entries.get("support/vss.json"))
    files = {f"files/broker/vss/{vss_name}": catalogue}
    files.update({f"{BROKER_WHEELS}/{key}.tar": _tar(bundle.files) for key, bundle in bundles.items()})
    bundle_var = "{{ sdv_broker.bundles[sdv_combination].%s }}"
    venv, uploads = bundle_var % "venv", "{{ sdv_prepared.uploads }}"
    vss_path = f"{uploads}/broker-vss/{vss_name}"
    variables["sdv_broker"] = {
        "bundles": {key: {"venv": b.venv_name, "requirement": b.requirement} for key, b in bundles.items()},
        "wheels": BROKER_WHEELS,
        "unpack": _UNPACK,
        "vss": f"files/broker/vss/{vss_name}",
        "venvArgs": broker_venv_args(venv, f"{uploads}/broker-wheels", bundle_var % "requirement"),
        "serviceArgs": broker_service_args(venv, vss_path, with_mqtt=True, key_file=f"{uploads}/{key_file}"),
        "serviceArgsNoMqtt": broker_service_args(venv, vss_path, with_mqtt=False, key_file=f"{uploads}/{key_file}"),
    }
    return files


def _tar(files: dict[str, bytes]) -> bytes:
    """The files as an uncompressed tar (wheels are compressed already), in name order, reproducibly."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            member = tarfile.TarInfo(name)
            member.size, member.mode = len(data), 0o644
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()
