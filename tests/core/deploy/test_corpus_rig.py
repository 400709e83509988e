"""The app corpus on the rig: every app in tests/data/apps/corpus, packaged as users bring it,
deployed to a rig device with the fallback broker (bench mode) and seen changing its signal by an
independent kuksa-client on that device.

Each corpus/<name>/expect.json says what to expect: ``source`` (the file or folder to package),
``signal`` and either ``values`` (all of them must be seen) or ``distinct`` (that many different
values), and optionally ``set`` (current values the bench holds, e.g. a standstill), ``mqtt``
(messages to publish, as a remote client would), ``build`` (BuildOptions, e.g. the runtime) and
``alone`` (needs a device, hence a broker, of its own: its own VSS, or signals others would feed)
and ``installed`` (distribution versions the app's venv on the device must hold, e.g. a pinned SDK).

All apps are packaged and deployed once, in batches (one app per device at a time), then each
app's test checks only its own outcome, so each passes or fails on its own.
"""

from __future__ import annotations

import ast
import asyncio
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.core.deploy import DeployOptions, start_deployment
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.packaging.builder import BuildOptions, build_package
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import Deployment
from tests.core.deploy.conftest import AGENT, APPS, broker_token, ref
from tests.rig.devices import LOGIN_USER
from tests.rig.rig import Device, Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]

CORPUS = APPS / "corpus"
NAMES = sorted(p.name for p in CORPUS.iterdir() if (p / "expect.json").is_file())
OPTIONS = DeployOptions(grace_seconds=2.0, health_timeout=60.0)
WATCH_SECONDS = 45  # generous: the apps are already running when their signal is watched

# Runs on the device (its network namespace) with this interpreter: kuksa-client reads the
# signal from the device's broker; amqtt publishes the spec's MQTT messages to its MQTT broker.
WATCH = r"""
import asyncio, json, os, sys, time
from kuksa_client.grpc import Datapoint, VSSClient

spec = json.loads(sys.argv[1])
signal, seen, errors = spec["signal"], [], []


def done():
    if spec.get("values") is not None:
        return all(value in seen for value in spec["values"])
    return len(seen) >= spec["distinct"]


async def publish(messages):
    from amqtt.client import MQTTClient
    client = MQTTClient()
    await client.connect("mqtt://127.0.0.1:1883/")
    for message in messages:
        await client.publish(message["topic"], json.dumps(message["payload"]).encode())
    await client.disconnect()


def note(exc):
    if str(exc) not in errors:
        errors.append(str(exc))


with VSSClient("127.0.0.1", 55555, token=os.environ["KUKSA_TOKEN"]) as client:
    deadline, nudge = time.monotonic() + spec["timeout"], 0.0
    while time.monotonic() < deadline and not done():
        try:
            if time.monotonic() >= nudge:  # (again) hold the bench's values and send the requests
                nudge = time.monotonic() + 2
                if spec.get("set"):
                    client.set_current_values({p: Datapoint(v) for p, v in spec["set"].items()})
                if spec.get("mqtt"):
                    asyncio.run(publish(spec["mqtt"]))
            point = client.get_current_values([signal])[signal]
            if point is not None and point.value is not None and point.value not in seen:
                seen.append(point.value)
        except Exception as exc:
            note(exc)
        time.sleep(0.1)
print(json.dumps({"seen": seen, "errors": errors[-3:]}))
"""


@dataclass
class Expectation:
    name: str
    source: Path
    signal: str
    values: list[Any] | None
    distinct: int
    set: dict[str, Any]
    mqtt: list[dict[str, Any]]
    build: dict[str, Any]
    alone: bool
    installed: dict[str, str]

    @classmethod
    def load(cls, name: str) -> Expectation:
        raw = json.loads((CORPUS / name / "expect.json").read_text())
        return cls(name, CORPUS / name / raw["source"], raw["signal"], raw.get("values"), raw.get("distinct", 2),
                   raw.get("set", {}), raw.get("mqtt", []), raw.get("build", {}), raw.get("alone", False),
                   raw.get("installed", {}))

    @property
    def docker(self) -> bool:
        return self.build.get("runtime") == "docker"


@dataclass
class Outcome:
    device: Device | None = None
    problems: list[str] = field(default_factory=list)  # why it is not running: build or deploy


def package_name(name: str) -> str:
    return "corpus-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def build(expectation: Expectation, out: Path) -> PackageFile:
    options = BuildOptions(name=package_name(expectation.name), output_dir=out, python_versions=["3.11"],
                           platforms=["x86_64"], **expectation.build)
    return PackageFile(build_package(expectation.source, options).path)


def assign(expectations: list[Expectation], devices: list[Device]) -> dict[str, Device]:
    """A device per app: a device of its own for each app that must be alone (plain devices
    first, engines are scarce), Docker apps on the engines, the rest in turn on what remains."""
    free = sorted(devices, key=lambda d: d.spec.engine)
    plan = {e.name: free.pop(0) for e in expectations if e.alone}
    engines = [d for d in free if d.spec.engine]
    turn = itertools.count()
    for e in expectations:
        if not e.alone:
            pool = engines if e.docker else free
            plan[e.name] = pool[next(turn) % len(pool)]
    return plan


def batches(plan: dict[str, Device]) -> Iterator[list[str]]:
    """One app per device at a time: the k-th batch holds each device's k-th app."""
    per_device: dict[str, list[str]] = {}
    for name, device in plan.items():
        per_device.setdefault(device.name, []).append(name)
    for batch in itertools.zip_longest(*per_device.values()):
        yield [name for name in batch if name is not None]


def deploy_batch(rig: Rig, batch: list[tuple[str, PackageFile, Device]], trust: HostKeyTrust,
                 records: DeploymentRecords) -> dict[str, Deployment]:
    async def go() -> list[Deployment]:
        runs = [start_deployment(package, [ref(rig, device)], trust, OPTIONS, records=records)
                for _, package, device in batch]
        return list(await asyncio.gather(*(run.wait() for run in runs)))

    with rig.in_workstation():
        results = asyncio.run(go())
    return {name: result for (name, _, _), result in zip(batch, results, strict=True)}


def selected(request: pytest.FixtureRequest) -> list[str]:
    """The corpus apps this session runs tests for (all, or those -k picked)."""
    return sorted({item.callspec.params["name"] for item in request.session.items
                   if item.module is sys.modules[__name__] and hasattr(item, "callspec")})


@pytest.fixture(scope="module")
def corpus(rig: Rig, tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[dict[str, Outcome]]:
    work = tmp_path_factory.mktemp("corpus")
    expectations = [Expectation.load(name) for name in selected(request)]
    outcomes = {e.name: Outcome() for e in expectations}
    packages: dict[str, PackageFile] = {}
    for e in expectations:
        try:
            packages[e.name] = build(e, work)
        except Exception as exc:  # each app fails on its own, whatever the packager raised
            outcomes[e.name].problems = [f"package: {type(exc).__name__}: {line}"
                                         for line in getattr(exc, "problems", [str(exc)])]
    plan = assign([e for e in expectations if e.name in packages], rig.working())
    for e in expectations:
        if e.alone and e.name in plan:
            plan[e.name].stop_sdv_apps()  # a databroker left running would be used, with its own VSS
    trust = HostKeyTrust(KnownHosts(work / "known_hosts"), accept_new=True)
    records = DeploymentRecords(work / "records")
    for batch in batches(plan):
        results = deploy_batch(rig, [(name, packages[name], plan[name]) for name in batch], trust, records)
        for name, result in results.items():
            row = result.devices[0]
            outcomes[name].device = plan[name]
            if result.status != "completed":
                outcomes[name].problems = [f"deploy to {row.device_id}: {row.message}", *row.logs[-8:]]
    yield outcomes
    # The databrokers of the apps that had a device alone carry those apps' own VSS (3.0, an overlay):
    # the tests after this one expect the devices as the rig made them.
    for device in {plan[e.name].name: plan[e.name] for e in expectations if e.alone and e.name in plan}.values():
        device.stop_sdv_apps()


def watch(device: Device, expectation: Expectation) -> dict[str, Any]:
    spec = {"signal": expectation.signal, "values": expectation.values, "distinct": expectation.distinct,
            "set": expectation.set, "mqtt": expectation.mqtt, "timeout": WATCH_SECONDS}
    done = subprocess.run(["nsenter", "-t", str(device.pid), "-n", "--", sys.executable, "-c", WATCH,
                           json.dumps(spec)], capture_output=True, text=True, timeout=WATCH_SECONDS + 60,
                          env={**os.environ, "KUKSA_TOKEN": broker_token()})
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def installed(device: Device, name: str, distributions: list[str]) -> dict[str, str]:
    """The versions of ``distributions`` in the app's venv on the device (its only release here)."""
    script = f"import importlib.metadata as m; print(dict((d, m.version(d)) for d in {distributions!r}))"
    out = device.run(f"for python in $HOME/.local/share/sdv-studio/apps/{name}/releases/*/venv/bin/python; "
                     f"do \"$python\" -c {shlex.quote(script)}; done", user=LOGIN_USER).stdout
    found: dict[str, str] = ast.literal_eval(out.strip().splitlines()[-1])
    return found


def app_log(device: Device, name: str) -> list[str]:
    """The app's last log lines, as the agent on the device has them (for failure messages)."""
    out = device.run(f"{AGENT} logs '{json.dumps({'name': name, 'lines': 12})}'", user=LOGIN_USER, check=False)
    try:
        lines: list[str] = json.loads(out.stdout)["lines"]
    except (ValueError, KeyError):
        return [out.stdout[-500:], out.stderr[-500:]]
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_corpus_app_changes_its_signal_on_a_rig_device(corpus: dict[str, Outcome], name: str) -> None:
    outcome = corpus[name]
    assert not outcome.problems, "\n".join(outcome.problems)
    assert outcome.device is not None
    expectation = Expectation.load(name)
    if expectation.installed:
        found = installed(outcome.device, package_name(name), list(expectation.installed))
        assert found == expectation.installed, f"the app's venv holds {found}, the app pins {expectation.installed}"
    answer = watch(outcome.device, expectation)
    seen = answer["seen"]
    wanted = expectation.values
    ok = all(v in seen for v in wanted) if wanted is not None else len(seen) >= expectation.distinct
    assert ok, (f"{expectation.signal} on {outcome.device.name}: saw {seen}, wanted "
                f"{wanted if wanted is not None else f'{expectation.distinct} distinct values'}; "
                f"watcher errors {answer['errors']}; app log:\n"
                + "\n".join(app_log(outcome.device, package_name(name))))
