"""Deploying a package as a container on the device's engine, with the container security profile
(docs/architecture.md).

The image is built on the device from the package itself (the .tar.gz is the build context,
network "none": the wheels are vendored). A container is healthy when it keeps running through
the grace period and the package's HEALTHCHECK command passes inside it; the engine's own health
timer is not relied on for that (podman needs systemd for it), but where it runs (every
``health_interval`` seconds) its last result is what ``status`` shows. A failed new container
never leaves the app without its previous version.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

import docker
from docker.models.containers import Container
from docker.models.images import Image

from sdv_studio.core.deploy.advertise import advertise
from sdv_studio.core.deploy.agent_link.deploy_lock import locked_session
from sdv_studio.core.deploy.agent_link.session import deploy_errors
from sdv_studio.core.deploy.compatibility import check_compatible
from sdv_studio.core.deploy.kuksa_wiring import Wiring, wire
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.orchestrator import DeployError, DeviceJob, JobOutcome, StepReporter
from sdv_studio.core.deploy.ota_pin import check_not_pinned
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.runtimes.container_engine import engine_for
from sdv_studio.core.deploy.runtimes.container_launch import ContainerLaunch
from sdv_studio.core.deploy.security.access import data_access_of
from sdv_studio.core.deploy.security.delivery import app_access, credential_env, place_ca, signing_key
from sdv_studio.core.deploy.security.report import container_facts, container_security, outcome_note
from sdv_studio.core.deploy.security.sandbox import engine_shortfalls, isolates, refuse_partial, sandbox_of
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.core.packaging.docker import health_command
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.package import parse_cpu, parse_memory

LABEL_APP = "io.sdv-studio.app"
LABEL_VERSION = "io.sdv-studio.version"
LABEL_PACKAGE = "io.sdv-studio.package"
LABEL_OTA = "io.sdv-studio.ota-enabled"  # "false": the package pins its version (deployment.otaEnabled)
KEEP_IMAGES = 3
Log = Callable[[str], None]
T = TypeVar("T")


def image_tag(package: PackageFile) -> str:
    return f"sdv-studio/{package.name}:{package.version}-{package.package_id[4:12]}"


def _find_image(engine: docker.DockerClient, package: PackageFile) -> Image | None:
    found = engine.images.list(filters={"label": f"{LABEL_PACKAGE}={package.package_id}"})
    return found[0] if found else None


def _build(engine: docker.DockerClient, package: PackageFile, log: Log) -> Image:
    labels = _labels(package)
    with package.path.open("rb") as context:
        stream = engine.api.build(
            fileobj=context, custom_context=True, encoding="gzip", dockerfile="docker/Dockerfile",
            tag=image_tag(package), labels=labels, network_mode="none", rm=True, forcerm=True, decode=True,
        )
        tail: list[str] = []
        for chunk in stream:
            if "error" in chunk:
                raise DeployError(f"the image build failed: {str(chunk['error']).strip()}", logs=tail[-40:])
            line = str(chunk.get("stream", "")).rstrip()
            if line:
                tail.append(line)
                log(line)
    image = _find_image(engine, package)
    if image is None:
        raise DeployError("the image build finished but the image is not on the device", logs=tail[-40:])
    return image


def app_answer(output: str) -> dict[str, Any]:
    """What the health probe printed: the app's /health answer (kuksa_connection, reason...), or the
    probe's own complaint as the reason."""
    lines = output.strip().splitlines()
    if not lines:
        return {}
    try:
        answer = json.loads(lines[-1])
    except ValueError:
        answer = None
    return answer if isinstance(answer, dict) else {"reason": lines[-1]}


def _wait_healthy(container: Container, grace: float, timeout: float) -> str | None:
    """None when healthy (up through ``grace``, then the package's health check passed inside it), else why not."""
    started = time.monotonic()
    last = "no answer from the health check yet"
    while time.monotonic() - started < max(timeout, grace):
        container.reload()
        if container.status != "running":
            code = (container.attrs.get("State") or {}).get("ExitCode")
            return f"the container stopped during its health check (exit code {code})"
        if time.monotonic() - started >= grace:
            result = container.exec_run(health_command())
            if result.exit_code == 0:
                return None
            output = (result.output or b"").decode(errors="replace")
            last = str(app_answer(output).get("reason") or f"health check exit code {result.exit_code}")
        time.sleep(0.5)
    return f"not healthy within {timeout:g}s: {last}"


def _used_health_ports(containers: list[Container]) -> set[int]:
    ports = set()
    for c in containers:
        for item in (c.attrs.get("Config") or {}).get("Env") or []:
            key, _, value = item.partition("=")
            if key == "SDV_HEALTH_PORT" and value.isdigit():
                ports.add(int(value))
    return ports


@dataclass(frozen=True)
class SwitchResult:
    container: Container
    previous: str | None
    already_running: bool = False


def _healthcheck(interval: float) -> dict[str, Any]:
    """The package's HEALTHCHECK, run by the engine every ``interval`` seconds (the image says 30).
    Given here, not only read from the image: podman keeps it out of an image's Docker-style config."""
    return {"test": ["CMD", *health_command()], "interval": int(interval * 1e9), "timeout": 8_000_000_000,
            "retries": 3, "start_period": 5_000_000_000}


def _labels(package: PackageFile) -> dict[str, str]:
    """On the image and its containers: which app, version and package, and whether it takes updates."""
    ota = (package.manifest.get("deployment") or {}).get("otaEnabled", True) is not False
    return {LABEL_APP: package.name, LABEL_VERSION: package.version, LABEL_PACKAGE: package.package_id,
            LABEL_OTA: "true" if ota else "false"}


def _run_container(engine: docker.DockerClient, package: PackageFile, image: Image, wiring: Wiring,
                   health_port: int, health_interval: float, launch: ContainerLaunch) -> Container:
    limits = (package.manifest.get("deployment") or {}).get("resourceLimits") or {}
    env = {
        "KUKSA_ENDPOINT": wiring.broker,
        "SDV_VEHICLEDATABROKER_ADDRESS": f"grpc://{wiring.broker}",
        "SDV_MQTT_ADDRESS": f"mqtt://{wiring.mqtt}",
        "VSS_VERSION": str((package.manifest.get("kuksaConfig") or {}).get("vssVersion", "")),
        "APP_NAME": package.name,
        "APP_VERSION": package.version,
        "SDV_HEALTH_PORT": str(health_port),
        **launch.environment(wiring),
    }
    return engine.containers.run(
        image.id,
        name=f"sdv-{package.name}-{package.package_id[4:12]}-{int(time.time())}",
        detach=True,
        environment=env,
        labels=_labels(package),
        healthcheck=_healthcheck(health_interval),
        **launch.run_options(image),
        user="1000:1000",
        read_only=True,
        tmpfs={"/tmp": "rw,noexec,nosuid,size=100m"},
        security_opt=["no-new-privileges"],
        cap_drop=["ALL"],
        mem_limit=parse_memory(str(limits.get("memory", "512MB"))),
        nano_cpus=int(parse_cpu(str(limits.get("cpu", "0.5"))) * 1_000_000_000),
        restart_policy={"Name": "unless-stopped"},
    )


def _switch(engine: docker.DockerClient, package: PackageFile, image: Image, wiring: Wiring,
            options: DeployOptions, launch: ContainerLaunch) -> SwitchResult:
    existing = engine.containers.list(all=True, filters={"label": f"{LABEL_APP}={package.name}"})
    running = [c for c in existing if c.status == "running"]
    for c in running:
        if c.labels.get(LABEL_PACKAGE) == package.package_id:
            return SwitchResult(c, c.labels.get(LABEL_VERSION), already_running=True)
    previous = running[0].labels.get(LABEL_VERSION) if running else None
    used = _used_health_ports(existing)
    port = random.choice([p for p in range(20000, 20999) if p not in used])
    hot = options.hot_swap and bool(running)
    if not hot:
        for c in running:
            c.stop(timeout=10)
    new = _run_container(engine, package, image, wiring, port, options.health_interval, launch)
    problem = _wait_healthy(new, options.grace_seconds, options.health_timeout)
    if problem is None:
        for c in existing:
            c.remove(force=True)
        return SwitchResult(new, previous)
    logs = new.logs(tail=40).decode(errors="replace").splitlines()
    new.remove(force=True)
    if hot:
        raise DeployError(f"{problem}; {previous} kept running", logs=logs)
    if options.rollback and running:
        for c in running:
            c.start()
        raise DeployError(f"{problem}; rolled back to {previous}, which is running", logs=logs, rolled_back=True)
    raise DeployError(problem, logs=logs)


def _installed(engine: docker.DockerClient, package: PackageFile) -> tuple[str | None, bool]:
    """The version of the app's newest container on the device and whether its package takes updates."""
    found = engine.containers.list(all=True, filters={"label": f"{LABEL_APP}={package.name}"})
    if not found:
        return None, True
    newest = max(found, key=lambda c: str(c.attrs.get("Created", "")))
    return newest.labels.get(LABEL_VERSION), newest.labels.get(LABEL_OTA) != "false"


async def _to_its_end(work: Awaitable[T]) -> T:
    """``work`` (a thread, which cannot be stopped half-way) finishes even when the deployment is
    cancelled meanwhile; the cancel takes effect after it, so what the device runs has settled."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


def _prune_images(engine: docker.DockerClient, package: PackageFile) -> None:
    """Keep the newest few images of the app for rollback; never the one in use."""
    images = engine.images.list(filters={"label": f"{LABEL_APP}={package.name}"})
    images.sort(key=lambda i: str(i.attrs.get("Created", "")), reverse=True)
    for image in images[KEEP_IMAGES:]:
        try:
            engine.images.remove(image.id)
        except docker.errors.APIError:
            continue  # still used by a container


def docker_job(target: SshTarget, trust: HostKeyTrust, package: PackageFile, options: DeployOptions) -> DeviceJob:
    async def job(step: StepReporter) -> JobOutcome:
        loop = asyncio.get_running_loop()

        def log(line: str) -> None:  # called from the worker thread that builds
            asyncio.run_coroutine_threadsafe(step.log(line), loop)

        await step.stage(Stage.COMPATIBILITY)
        async with deploy_errors(target), AsyncExitStack() as session:
            agent, info = await locked_session(session, target, trust, package, options, step)
            check_compatible(package, info, "docker")
            sandbox = sandbox_of(package.manifest)
            try:
                engine = await asyncio.to_thread(engine_for, agent.remote)
            except docker.errors.DockerException as exc:
                raise DeployError(f"cannot use the device's Docker engine: {exc}") from exc
            try:
                check_not_pinned(package, *await asyncio.to_thread(_installed, engine, package), options.force)
                engine_info = await asyncio.to_thread(engine.info)
                refuse_partial(sandbox, engine_shortfalls(engine_info))
                await step.stage(Stage.TRANSFER)
                image = await asyncio.to_thread(_find_image, engine, package)
                if image is not None:
                    await step.log(f"the device already has image {image_tag(package)}; nothing to send")
                    await step.stage(Stage.INSTALL)
                else:
                    await step.log(f"sending the package as build context ({package.size} bytes)")
                    await step.stage(Stage.INSTALL, "Building the container image on the device...")
                    image = await asyncio.to_thread(_build, engine, package, log)

                await step.stage(Stage.KUKSA)
                key = await signing_key()
                wiring = await wire(agent, package.manifest, info, options.broker, key,
                                    package.entries.get("support/vss.json"))
                await step.log(f"databroker {wiring.broker} ({wiring.how})")
                access = app_access(package, wiring.broker, ours=wiring.ours, key=key, token=options.broker_token,
                                    ca_pem=options.broker_ca)
                relay = await agent.call("relay", {"targets": [wiring.broker, wiring.mqtt]},
                                         timeout=60) if isolates(sandbox) else None
                launch = ContainerLaunch(credential_env(access, None), await place_ca(agent, info, access), relay)

                await step.stage(Stage.START)
                switched = await _to_its_end(asyncio.to_thread(_switch, engine, package, image, wiring, options,
                                                               launch))
                if line := await advertise(agent, info, options.stall_timeout, options.advertise):
                    await step.log(line)
                await step.stage(Stage.HEALTH)
                await asyncio.to_thread(switched.container.reload)
                security = container_security(
                    sandbox, data_access_of(package.manifest), access,
                    container_facts(switched.container.attrs, engine_info), wiring.broker if relay else None)
                await asyncio.to_thread(_prune_images, engine, package)
            except docker.errors.DockerException as exc:
                raise DeployError(f"the device's Docker engine refused: {exc}") from exc
            finally:
                await asyncio.to_thread(engine.close)
        state = "already running" if switched.already_running else "running"
        return JobOutcome(message=f"{package.name} {package.version} {state} in container "
                                  f"{switched.container.short_id}{outcome_note(security)}",
                          runtime="docker", previous_version=switched.previous, security=security)

    return job


def container_states(engine: docker.DockerClient) -> list[dict[str, Any]]:
    """SDV Studio's containers on a device, in `status --json`'s app shape."""
    apps = []
    for c in engine.containers.list(all=True, filters={"label": LABEL_APP}):
        state = c.attrs.get("State") or {}
        checks = (state.get("Health") or {}).get("Log") or []
        health = container_health(c.status == "running", checks[-1] if checks else None)
        if c.status == "running":
            status = "running" if health is None or not health.pop("failed") else "degraded"
        else:
            status = "crashed" if state.get("ExitCode") or c.status == "restarting" else "stopped"
            health = None
        apps.append({"name": c.labels.get(LABEL_APP), "version": c.labels.get(LABEL_VERSION), "status": status,
                     "runtime": "docker", "containerId": c.short_id, "startedAt": state.get("StartedAt"),
                     "restarts": int(c.attrs.get("RestartCount") or 0), "health": health})
    return apps


def container_health(running: bool, check: dict[str, Any] | None) -> dict[str, Any] | None:
    """The engine's last run of the health check, in the guide's fields (plus ``failed``)."""
    if check is None:
        return None
    answer = app_answer(str(check.get("Output") or ""))
    failed = check.get("ExitCode") != 0
    connection = answer.get("kuksa_connection")
    return {"failed": failed, "kuksa_connection": connection if isinstance(connection, bool) else None,
            "app_running": running and answer.get("app_running") is not False,
            "last_check": str(check.get("End") or "")[:19] + "Z" if check.get("End") else None,
            "reason": str(answer.get("reason") or "") or (f"health check exit code {check.get('ExitCode')}"
                                                          if failed else "")}
