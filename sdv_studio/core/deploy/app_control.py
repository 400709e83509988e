"""Managing deployed apps on a device: status, stop, start, logs, rollback, uninstall.

Native apps are the agent's; containers are found on the device's engine by SDV Studio's labels.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import docker
from docker.models.containers import Container

from sdv_studio.child_env import child_env
from sdv_studio.core.deploy.agent_link.client import AgentCallError, AgentClient, agent_line
from sdv_studio.core.deploy.agent_link.local_target import LocalConnection
from sdv_studio.core.deploy.agent_link.session import agent_failure, agent_session, deploy_errors
from sdv_studio.core.deploy.device_ref import DeviceRef
from sdv_studio.core.deploy.orchestrator import DeployError, DeviceState
from sdv_studio.core.deploy.runtimes.container import (
    LABEL_APP,
    LABEL_OTA,
    LABEL_PACKAGE,
    LABEL_VERSION,
    container_states,
)
from sdv_studio.core.deploy.runtimes.container_engine import engine_for
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import AppState, DeviceApps, StagedCheck

NATIVE_FIELDS = ("name", "version", "status", "runtime", "pid", "startedAt", "restarts", "health")


async def _engine(agent: AgentClient, info: dict[str, Any]) -> docker.DockerClient | None:
    if info["properties"].get("runtime") not in ("docker", "both"):
        return None
    try:
        return await asyncio.to_thread(engine_for, agent.remote)
    except docker.errors.DockerException:
        return None


async def device_status(device: DeviceRef, trust: HostKeyTrust, timeout: float, name: str | None = None,
                        settle: float = 0) -> DeviceApps:
    """Every app on the device (or one), native and in containers; a failure is reported, not raised.
    With ``settle`` (seconds, and a ``name``), once a start of that app under way has ended."""
    try:
        async with deploy_errors(device.target), agent_session(device.target, trust, timeout) as (agent, info):
            # Every native app, then filtered: the agent knows nothing of an app that runs in a container.
            answer = await agent.call("status", {"settle": name} if settle and name else {},
                                      timeout=max(timeout, settle))
            apps = [state for a in answer.get("apps", []) if name in (None, a.get("name"))
                    for state in native_states(a)]
            engine = await _engine(agent, info)
            if engine is not None:
                try:
                    states = await asyncio.to_thread(container_states, engine)
                finally:
                    await asyncio.to_thread(engine.close)
                apps += [AppState.model_validate({k: v for k, v in s.items() if v is not None})
                         for s in states if name in (None, s["name"])]
            if name is not None and not apps:
                return DeviceApps(device_id=device.device_id, error=f"no app named {name}")
            return DeviceApps(device_id=device.device_id, apps=apps)
    except DeployError as exc:
        return DeviceApps(device_id=device.device_id, error=str(exc))


def native_states(app: dict[str, Any]) -> list[AppState]:
    """An app of the agent's ``status``: as it runs (unless it never ran), then its staged version if any."""
    states = []
    staged = app.get("staged")
    if not staged or app.get("current") or app.get("status") != "stopped":
        fields = {k: app.get(k) for k in NATIVE_FIELDS if app.get(k) is not None}
        states.append(AppState.model_validate(dict(fields, lastStaged=app.get("lastStaged"))))
    if staged:
        observed = {k: v for k, v in (staged.get("observed") or {}).items() if k in StagedCheck.model_fields}
        states.append(AppState(name=app["name"], version=staged.get("version"), status="staged",
                               condition=staged.get("condition"), staged_at=staged.get("stagedAt"),
                               last_check=StagedCheck.model_validate(observed) if observed else None))
    return states


async def cancel_staged(device: DeviceRef, trust: HostKeyTrust, timeout: float, name: str) -> dict[str, Any]:
    """Cancel ``name``'s staged release on one device (what runs is untouched); DeployError when it cannot."""
    async with deploy_errors(device.target), agent_session(device.target, trust, timeout) as (agent, _info):
        try:
            return await agent.call("unstage", {"name": name}, timeout=max(timeout, 120))
        except AgentCallError as exc:
            raise agent_failure(exc) from exc


async def state_after_cancel(device: DeviceRef, trust: HostKeyTrust, timeout: float, name: str,
                             settle: float) -> DeviceState:
    """What ``status`` says the device runs of ``name`` once a cancelled deployment's work there has
    ended (the agent waits for a start under way; see its ``status``)."""
    found = await device_status(device, trust, timeout, name, settle)
    if found.error:
        if found.error == f"no app named {name}":
            return DeviceState(None, f"{name} is not on the device")
        raise DeployError(found.error)
    running = [a for a in found.apps if a.status in ("running", "degraded")]
    if running:
        app = running[0]
        return DeviceState(app.version, f"the device runs {name} {app.version} ({app.status})")
    app = found.apps[0]
    what = f"{name} {app.version}" if app.version else name
    return DeviceState(None, f"{what} is {app.status} on the device")


async def roll_back(device: DeviceRef, trust: HostKeyTrust, timeout: float, name: str) -> DeviceState:
    """Switch ``name`` back to its previous version; then what ``status`` says the device runs."""
    await app_action(device, trust, timeout, "rollback", name)
    return await state_after_cancel(device, trust, timeout, name, settle=0)


async def unstage(device: DeviceRef, trust: HostKeyTrust, timeout: float, name: str) -> DeviceState:
    """Cancel ``name``'s staged release (what runs is untouched); then what ``status`` says the device runs."""
    await cancel_staged(device, trust, timeout, name)
    return await state_after_cancel(device, trust, timeout, name, settle=0)


def _containers(engine: docker.DockerClient, name: str) -> list[Container]:
    found: list[Container] = engine.containers.list(all=True, filters={"label": f"{LABEL_APP}={name}"})
    return found


def _docker_action(engine: docker.DockerClient, action: str, name: str) -> dict[str, Any] | None:
    """The action on the app's containers; None when the app has none (it is native)."""
    containers = _containers(engine, name)
    if not containers:
        return None
    if action == "stop":
        for c in containers:
            c.stop(timeout=10)
    elif action == "start":
        containers[0].start()
    elif action == "uninstall":
        for c in containers:
            c.remove(force=True)
        for image in engine.images.list(filters={"label": f"{LABEL_APP}={name}"}):
            engine.images.remove(image.id, force=True)
    elif action == "rollback":
        return _docker_rollback(engine, containers[0])
    return {"name": name, "runtime": "docker", "action": action, "containers": [c.short_id for c in containers]}


def _docker_rollback(engine: docker.DockerClient, current: Container) -> dict[str, Any]:
    """Run the app's previous image with the current container's settings, then remove the current one."""
    name = current.labels[LABEL_APP]
    images = engine.images.list(filters={"label": f"{LABEL_APP}={name}"})
    images.sort(key=lambda i: str(i.attrs.get("Created", "")), reverse=True)
    older = [i for i in images if i.labels.get(LABEL_PACKAGE) != current.labels.get(LABEL_PACKAGE)]
    if not older:
        raise DeployError(f"{name}: no earlier version on the device to roll back to")
    image = older[0]
    host = current.attrs["HostConfig"]
    config = current.attrs["Config"]
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    env["APP_VERSION"] = str(image.labels.get(LABEL_VERSION))
    current.stop(timeout=10)
    replacement = engine.containers.run(
        image.id, name=f"{current.name}-rb", detach=True, environment=env,
        labels={k: image.labels[k] for k in (LABEL_APP, LABEL_VERSION, LABEL_PACKAGE, LABEL_OTA) if k in image.labels},
        network_mode="host", user=config.get("User") or "1000:1000", read_only=True,
        tmpfs={"/tmp": "rw,noexec,nosuid,size=100m"}, security_opt=["no-new-privileges"], cap_drop=["ALL"],
        mem_limit=host.get("Memory") or None, nano_cpus=host.get("NanoCpus") or None,
        restart_policy={"Name": "unless-stopped"},
    )
    current.remove(force=True)
    return {"name": name, "runtime": "docker", "rolledBackTo": image.labels.get(LABEL_VERSION),
            "containerId": replacement.short_id}


async def app_action(device: DeviceRef, trust: HostKeyTrust, timeout: float, action: str, name: str,
                     args: dict[str, Any] | None = None) -> dict[str, Any]:
    """stop, start, rollback or uninstall ``name`` on one device; DeployError when it cannot."""
    async with deploy_errors(device.target), agent_session(device.target, trust, timeout) as (agent, info):
        engine = await _engine(agent, info)
        if engine is not None:
            try:
                done = await asyncio.to_thread(_docker_action, engine, action, name)
            finally:
                await asyncio.to_thread(engine.close)
            if done is not None:
                return done
        try:
            return await agent.call(action, {"name": name, **(args or {})}, timeout=max(timeout, 120))
        except AgentCallError as exc:
            raise agent_failure(exc) from exc


async def follow_logs(device: DeviceRef, trust: HostKeyTrust, timeout: float, name: str, lines: int = 100,
                      follow: bool = False) -> AsyncIterator[str]:
    """The app's log tail, then (with ``follow``) new lines as they are written."""
    async with deploy_errors(device.target), agent_session(device.target, trust, timeout) as (agent, info):
        engine = await _engine(agent, info)
        if engine is not None:
            try:
                containers = await asyncio.to_thread(_containers, engine, name)
                if containers:
                    stream = await asyncio.to_thread(containers[0].logs, stream=True, follow=follow, tail=lines)
                    pending = b""
                    async for chunk in _read_in_own_thread(lambda: next(stream, b"")):
                        pending += chunk
                        *complete, pending = pending.split(b"\n")
                        for line in complete:
                            yield line.decode(errors="replace")
                    return
            finally:
                await asyncio.to_thread(engine.close)
        if not follow:
            answer = await agent.call("logs", {"name": name, "lines": lines})
            for line in answer.get("lines", []):
                yield str(line)
            return
        command = agent_line("logs", {"name": name, "lines": lines, "follow": True})
        async for raw in _stream(agent, command):
            try:
                yield str(json.loads(raw).get("line", ""))
            except ValueError:
                yield raw


async def _stream(agent: AgentClient, command: str) -> AsyncIterator[str]:
    """Lines of a long-running remote command as they arrive, until it ends or we are cancelled."""
    if isinstance(agent.remote, LocalConnection):
        process = await asyncio.create_subprocess_shell(command, stdout=asyncio.subprocess.PIPE,
                                                        env=child_env())
        assert process.stdout is not None
        try:
            async for line in process.stdout:
                yield line.decode(errors="replace").rstrip("\n")
        finally:
            if process.returncode is None:
                process.terminate()
        return
    channel = agent.remote.transport.open_session()
    channel.exec_command(command)
    buffer = b""
    try:
        async for chunk in _read_in_own_thread(lambda: channel.recv(65536)):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                yield line.decode(errors="replace")
    finally:
        channel.close()


async def _read_in_own_thread(read: Callable[[], bytes]) -> AsyncIterator[bytes]:
    """Chunks of a blocking ``read`` until it returns b"", read in a thread of its own: a log followed
    for hours must not hold one of the loop's shared executor threads (the window has four), and
    closing the source (channel or engine, in the caller's ``finally``) ends the thread."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | BaseException] = asyncio.Queue()

    def hand_over(item: bytes | BaseException) -> bool:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is gone: nobody reads any more
            return False
        return True

    def pump() -> None:
        try:
            while hand_over(chunk := read()) and chunk:
                pass
        except Exception as exc:  # handed to the reader, which raises it there
            hand_over(exc)

    threading.Thread(target=pump, name="follow-read", daemon=True).start()
    while item := await queue.get():
        if isinstance(item, BaseException):
            raise item
        yield item
