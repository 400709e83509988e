"""Which databroker (and MQTT broker) an app on a device is wired to.

In order: the address the user gave; the package's customBrokerUrl; a databroker already
answering on the device (found by core.kuksa.on_device, the detection the Devices and Kuksa
steps show; skipped when the package turns ``brokerAutoDetect`` off); else, with
``fallbackBroker``, SDV Studio's embedded broker started on the device under the agent's supervisor.

SDV Studio's broker verifies the apps' tokens with the workstation's key (security.tokens): one
already running under the agent with another key (or none) is restarted with this one.
"""

from __future__ import annotations

import asyncio
import hashlib
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sdv_studio.broker.bench import DEFAULT_DELAY_MS
from sdv_studio.core.defaults import DATABROKER_PORT, MQTT_PORT
from sdv_studio.core.deploy.agent_link.client import AgentClient
from sdv_studio.core.deploy.agent_link.uploads import upload_files
from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.deploy.security.tokens import SigningKey
from sdv_studio.core.device_wheels.broker_bundle import broker_bundle
from sdv_studio.core.kuksa.on_device import detect_on_device
from sdv_studio.core.packaging.vehicle_model import resolve_vss
from sdv_studio.core.packaging.wheels import WheelError
from sdv_studio.core.ssh.errors import SshError
from sdv_studio.models.broker import KuksaBrokerInfo

DETECT_TIMEOUT = 5.0
FALLBACK_SERVICE = "databroker"


@dataclass(frozen=True)
class Wiring:
    broker: str  # host:port
    mqtt: str  # host:port
    how: str  # for the log: "given", "detected on the device", "fallback started", …
    # SDV Studio's broker must be started on the device first (and MQTT with it, unless one listens).
    start_fallback: bool = False
    with_mqtt: bool = False
    # SDV Studio's broker, verifying tokens signed with this workstation's key.
    ours: bool = False


def _strip_scheme(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


async def device_brokers(agent: AgentClient) -> list[KuksaBrokerInfo]:
    """What answers on the device's ports, loopback included; empty when it cannot be asked."""
    try:
        return await detect_on_device(agent.remote, agent.remote.target.host, host_timeout=DETECT_TIMEOUT)
    except SshError:
        return []


def _described(broker: KuksaBrokerInfo) -> str:
    server = " ".join(x for x in (broker.name, broker.version if broker.version != "unknown" else None) if x)
    apis = ", ".join(broker.apis)
    return f"databroker found on the device ({server or 'databroker'}; {apis})" if apis else \
        f"databroker found on the device ({server or 'databroker'})"


def choose(manifest: dict[str, Any], info: dict[str, Any], given: str | None,
           brokers: list[KuksaBrokerInfo] | None = None) -> Wiring:
    """The broker for the app, decided without a round trip: ``info`` is the agent's info (or
    prepare) answer, with the device's listening ports; ``brokers`` what ``device_brokers`` found."""
    kuksa = manifest.get("kuksaConfig") or {}
    mqtt_default = f"127.0.0.1:{MQTT_PORT}"
    if given:
        return Wiring(_strip_scheme(given), mqtt_default, "given")
    if kuksa.get("customBrokerUrl"):
        return Wiring(_strip_scheme(str(kuksa["customBrokerUrl"])), mqtt_default, "from the package")
    listening = set(info.get("listening") or [])
    detect = kuksa.get("brokerAutoDetect", True) is not False
    found = sorted((b for b in brokers or [] if b.kind == "databroker"), key=lambda b: b.port != DATABROKER_PORT)
    if detect and found:
        return Wiring(f"127.0.0.1:{found[0].port}", mqtt_default, _described(found[0]))
    if detect and DATABROKER_PORT in listening:
        # Taken by something that did not answer as a databroker (or not asked): the fallback could not bind it.
        return Wiring(f"127.0.0.1:{DATABROKER_PORT}", mqtt_default, f"port {DATABROKER_PORT} in use on the device")
    if not kuksa.get("fallbackBroker", True):
        if not detect:
            raise DeployError("the package turns databroker detection and SDV Studio's databroker off and names "
                              "no broker (kuksaConfig.customBrokerUrl): give one with --broker HOST:PORT")
        return Wiring(f"127.0.0.1:{DATABROKER_PORT}", mqtt_default, "no databroker found and fallback disabled")
    if DATABROKER_PORT in listening:
        raise DeployError(f"the package turns databroker detection off, so SDV Studio's databroker would start, "
                          f"but port {DATABROKER_PORT} on the device is taken; use that broker with --broker "
                          f"127.0.0.1:{DATABROKER_PORT}, or package with detection on")
    return Wiring(f"127.0.0.1:{DATABROKER_PORT}", mqtt_default, "SDV Studio's databroker started on the device",
                  start_fallback=True, with_mqtt=MQTT_PORT not in listening, ours=True)


def _key_file(uploads: str, key: SigningKey) -> str:
    return f"{uploads}/broker-auth/{key.fingerprint}.pem"


async def recognise(agent: AgentClient, wiring: Wiring, info: dict[str, Any], key: SigningKey) -> Wiring:
    """Whether the databroker on the device's 127.0.0.1:55555 is SDV Studio's, started by the agent:
    then the app's token is minted here, and a broker that does not verify this workstation's
    tokens is restarted so that it does (with MQTT if it served it)."""
    host, _, port = wiring.broker.rpartition(":")
    if wiring.start_fallback or host not in ("127.0.0.1", "localhost") or port != str(DATABROKER_PORT):
        return wiring
    running = await agent.call("service", {"action": "status", "name": FALLBACK_SERVICE}, timeout=30)
    argv = [str(a) for a in running.get("argv") or []]
    if not running.get("running"):
        return wiring
    if _key_file(str(info["uploads"]), key) in argv:
        return replace(wiring, ours=True, how="SDV Studio's databroker, running on the device")
    return replace(wiring, start_fallback=True, with_mqtt="--mqtt-port" in argv, ours=True,
                   how="SDV Studio's databroker, restarted to verify this workstation's tokens")


async def wire(agent: AgentClient, manifest: dict[str, Any], info: dict[str, Any], given: str | None,
               key: SigningKey, catalogue: bytes | None = None) -> Wiring:
    """``choose`` (asking the device what answers there), then start the fallback broker when that is the choice."""
    wiring = choose(manifest, info, given, None if given else await device_brokers(agent))
    wiring = await recognise(agent, wiring, info, key)
    if wiring.start_fallback:
        await start_fallback_broker(agent, manifest, info, with_mqtt=wiring.with_mqtt, catalogue=catalogue, key=key)
    return wiring


async def start_fallback_broker(
    agent: AgentClient, manifest: dict[str, Any], info: dict[str, Any], *, with_mqtt: bool,
    catalogue: bytes | None = None, key: SigningKey | None = None,
) -> None:
    """``catalogue``: the package's own VSS catalogue (support/vss.json, the release with the app's
    overlay signals), which the broker loads instead of the release the manifest names. With
    ``key`` (as every deployment gives it) the broker verifies tokens with its public half;
    without, it lets every client in."""
    uploads = info["uploads"]
    catalogue, vss_name = broker_catalogue(manifest, catalogue)
    vss_remote = f"{uploads}/broker-vss/{vss_name}"
    files = [(catalogue, vss_remote)]
    if key is not None:
        files.append((key.public_pem, _key_file(uploads, key)))
    venv_name = await broker_venv(agent, info, files)
    await agent.call("service", broker_service_args(venv_name, vss_remote, with_mqtt=with_mqtt,
                                                    key_file=_key_file(uploads, key) if key else None), timeout=120)


async def broker_venv(agent: AgentClient, info: dict[str, Any], extra: Sequence[tuple[bytes, str]] = ()) -> str:
    """SDV Studio's databroker bundle (grpcio, the KUKSA stubs) in a venv on the device, installed offline
    from wheels uploaded with ``extra`` files (those the device lacks): the venv's name."""
    props = info["properties"]
    python = ".".join(str(props["python"]).split(".")[:2])
    try:
        bundle = await asyncio.to_thread(broker_bundle, python, str(props["arch"]))
    except WheelError as exc:
        raise DeployError("cannot prepare SDV Studio's databroker for the device: " + "; ".join(exc.problems)) from exc
    wheel_dir = f"{info['uploads']}/broker-wheels"
    listing = await agent.remote.run(f"ls -1 {shlex.quote(wheel_dir)} 2>/dev/null", timeout=15)
    present = set(listing.stdout.split())
    files = [(data, f"{wheel_dir}/{name}") for name, data in sorted(bundle.files.items()) if name not in present]
    await upload_files(agent, [*files, *extra])
    await agent.call("venv", broker_venv_args(bundle.venv_name, wheel_dir, bundle.requirement), timeout=300)
    return bundle.venv_name


def broker_catalogue(manifest: dict[str, Any], catalogue: bytes | None = None) -> tuple[bytes, str]:
    """The VSS catalogue the device's broker loads and its file name there: the package's own
    (``catalogue``) under a name from its hash, else the release the manifest names."""
    if catalogue is not None:
        return catalogue, f"package-{hashlib.sha256(catalogue).hexdigest()[:16]}.json"
    vss_file, _release = resolve_vss(str((manifest.get("kuksaConfig") or {}).get("vssVersion") or "") or None)
    return vss_file.read_bytes(), vss_file.name


def broker_venv_args(venv_name: str, wheel_dir: str, requirement: str) -> dict[str, Any]:
    """The agent's ``venv`` arguments that install the broker from its uploaded wheels, offline."""
    return {"name": venv_name, "findLinks": [wheel_dir], "requirements": [requirement]}


def broker_service_args(venv_name: str, vss_path: str, *, with_mqtt: bool,
                        key_file: str | None = None) -> dict[str, Any]:
    """The agent's ``service`` arguments that start SDV Studio's databroker, supervised, on the device."""
    argv = ["{python}", "-m", "sdv_studio.broker", "--address", "127.0.0.1", "--port", str(DATABROKER_PORT),
            "--vss", vss_path]
    argv += ["--jwt-public-key", key_file] if key_file is not None else []
    argv += ["--mqtt-port", str(MQTT_PORT)] if with_mqtt else ["--no-mqtt"]
    # A device with no databroker of its own has no vehicle behind it either: bench mode, said
    # here rather than left to the broker's default, reflects the app's actuator targets.
    argv += ["--mock-delay", str(DEFAULT_DELAY_MS)]
    return {"action": "start", "name": FALLBACK_SERVICE, "venv": venv_name, "argv": argv,
            "health": {"tcpPort": DATABROKER_PORT}}
