"""The fallback databroker's bundle for every supported device Python (3.8 and newer)."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from importlib import metadata

import pytest
from packaging.utils import parse_wheel_filename

from sdv_studio.core.device_wheels import docopt_wheel
from sdv_studio.core.device_wheels.broker_bundle import BrokerBundle, broker_bundle, broker_wheel
from sdv_studio.core.packaging import wheels
from tests.locations import REPO

# What the bundle's wheel carries to a device.
ON_DEVICE = [REPO / "sdv_studio" / "broker", REPO / "sdv_studio" / "child_env.py"]


def _versions(bundle: BrokerBundle) -> dict[str, str]:
    found = {}
    for name in bundle.files:
        dist, version, _build, _tags = parse_wheel_filename(name)
        found[str(dist)] = str(version)
    return found


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


@pytest.mark.parametrize(("python", "arch"), [("3.8", "x86_64"), ("3.8", "aarch64"), ("3.9", "x86_64")])
def test_an_older_python_gets_older_runtimes_and_amqtt_010(python: str, arch: str) -> None:
    bundle = broker_bundle(python, arch)
    versions = _versions(bundle)
    # The newest releases with wheels for that Python, within what the stubs support.
    assert (1, 62) <= _major_minor(versions["grpcio"]) < _major_minor(metadata.version("grpcio"))
    assert (5, 29) <= _major_minor(versions["protobuf"]) < _major_minor(metadata.version("protobuf"))
    # amqtt 0.10, the last for Python < 3.10, with the docopt wheel built here and pkg_resources.
    assert _major_minor(versions["amqtt"]) == (0, 10)
    assert versions["docopt"] == docopt_wheel.VERSION and docopt_wheel.WHEEL in bundle.files
    assert _major_minor(versions["setuptools"]) < (81, 0)
    tags = {t for name in bundle.files for t in parse_wheel_filename(name)[3]}
    assert f"cp{python.replace('.', '')}" in {t.interpreter for t in tags}
    assert {t.platform for t in tags} - {"any"} <= set(wheels.platform_tags(arch))


@pytest.mark.parametrize("python", ["3.11", "3.13"])
def test_a_current_python_gets_the_runtimes_this_workstation_runs(python: str) -> None:
    bundle = broker_bundle(python, "x86_64")
    versions = _versions(bundle)
    for name in ("grpcio", "protobuf", "amqtt", "cryptography"):  # cryptography: the apps' tokens
        assert versions[name] == metadata.version(name)
    assert "docopt" not in versions


def test_the_broker_wheel_installs_on_python_38_and_asks_each_python_for_its_amqtt() -> None:
    _name, data = broker_wheel()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        meta = next(archive.read(n).decode() for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    assert "Requires-Python: >=3.8\n" in meta
    requires = [line.removeprefix("Requires-Dist: ") for line in meta.splitlines() if line.startswith("Requires-Dist")]
    assert f'amqtt<={metadata.version("amqtt")}; python_version >= "3.10"' in requires
    assert 'amqtt>=0.10.1,<0.11; python_version < "3.10"' in requires
    assert 'setuptools<81; python_version < "3.10"' in requires


def test_vermin_says_the_broker_runs_on_python_38() -> None:
    pytest.importorskip("vermin")
    # Annotations are not evaluated (the modules use postponed annotations), so they may be newer.
    cli = "import sys, vermin; sys.argv[0] = 'vermin'; sys.exit(vermin.main())"
    done = subprocess.run([sys.executable, "-c", cli, "-t=3.8-", "--violations", "--no-tips",
                           *map(str, ON_DEVICE)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
