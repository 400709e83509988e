"""The embedded databroker, packed for a device: a wheel of sdv_studio.broker plus its
dependencies' wheels for the device's Python and architecture, installed offline there.

Only the broker goes to the device (not the GUI, CLI or their dependencies), so the wheel is
built here from the broker's own files rather than from the whole sdv-studio project.

The broker runs on any device Python from 3.8 on. Its dependencies are ranges, not this
workstation's pins: from the oldest release the shipped stubs work with up to the version this
workstation runs (and so tests), so each device gets the newest its Python has wheels for
(Python 3.8: grpcio 1.70 and protobuf 5.29; 3.9: grpcio 1.80 and protobuf 6.33). Every bundle
carries an MQTT broker: amqtt from the workstation's range on Python 3.10 and newer, amqtt 0.10 below,
and cryptography, with which the broker verifies the apps' tokens (signed on the workstation).
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

import sdv_studio
from sdv_studio import __version__
from sdv_studio.core.device_wheels.docopt_wheel import docopt_wheel
from sdv_studio.core.packaging import wheels

_PACKAGE_ROOT = Path(sdv_studio.__file__).resolve().parent
_DIST = "sdv_studio_broker"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # reproducible wheel bytes


# The oldest runtimes the stubs in sdv_studio/broker/proto work with: the *_grpc modules call
# the registered-method form (grpcio 1.62), and the *_pb2 modules, stripped of the gencode's
# runtime-version guard, load with protobuf 5.29, the last release for Python 3.8.
FLOORS = {"grpcio": "1.62", "protobuf": "5.29", "cryptography": "3.4"}
# amqtt 0.11+ needs Python 3.10. Older Pythons get 0.10, the last release for them: it has another
# configuration format (sdv_studio/broker/mqtt.py speaks both), a dependency published only as an
# sdist (docopt: docopt_wheel.py builds its wheel), and it loads its plugins with pkg_resources
# without declaring setuptools (whose releases from 82 on have no pkg_resources).
CURRENT_AMQTT_PYTHON = (3, 10)
OLD_AMQTT = ("amqtt>=0.10.1,<0.11", "setuptools<81")


def _range(name: str) -> str:
    """From the floor up to the version this workstation runs: tested here, and never newer."""
    floor = f">={FLOORS[name]}" if name in FLOORS else ""
    try:
        return f"{name}{floor}{',' if floor else ''}<={metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return name + floor


def gets_old_amqtt(python_version: str) -> bool:
    """Whether a device's Python (``3.9``) gets amqtt 0.10 rather than the workstation's range."""
    return tuple(int(part) for part in python_version.split(".")[:2]) < CURRENT_AMQTT_PYTHON


def runtime_requirements(python_version: str) -> list[str]:
    """What a device with this Python installs beside the broker."""
    mqtt = list(OLD_AMQTT) if gets_old_amqtt(python_version) else [_range("amqtt")]
    return [_range("grpcio"), _range("protobuf"), _range("cryptography"), *mqtt]


def _requires_dist() -> list[str]:
    """The broker wheel's dependencies, one wheel for every device Python."""
    split = ".".join(map(str, CURRENT_AMQTT_PYTHON))
    return [_range("grpcio"), _range("protobuf"), _range("cryptography"),
            f'{_range("amqtt")}; python_version >= "{split}"',
            *(f'{requirement}; python_version < "{split}"' for requirement in OLD_AMQTT)]


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@lru_cache(maxsize=1)
def broker_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of a py3-none-any wheel holding sdv_studio.broker."""
    files: dict[str, bytes] = {"sdv_studio/__init__.py": f'__version__ = "{__version__}"\n'.encode(),
                               "sdv_studio/child_env.py": (_PACKAGE_ROOT / "child_env.py").read_bytes()}
    broker_dir = _PACKAGE_ROOT / "broker"
    for path in sorted(broker_dir.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".pyi") and "__pycache__" not in path.parts:
            files[f"sdv_studio/{path.relative_to(_PACKAGE_ROOT).as_posix()}"] = path.read_bytes()
    info = f"{_DIST}-{__version__}.dist-info"
    requires = "".join(f"Requires-Dist: {r}\n" for r in _requires_dist())
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: sdv-studio-broker\nVersion: {__version__}\n"
        f"Summary: SDV Studio's embedded KUKSA databroker\nRequires-Python: >=3.8\n{requires}"
    ).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: sdv-studio\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return f"{_DIST}-{__version__}-py3-none-any.whl", buffer.getvalue()


@dataclass(frozen=True)
class BrokerBundle:
    files: dict[str, bytes]  # wheel file name -> bytes
    requirement: str  # what the device's venv installs

    # Named after the content, so a device never keeps running an older broker's code. Hashed once,
    # with the bundle in its worker thread: megabytes of wheels hashed per device stalled the event loop.
    venv_name: str


def _venv_name(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + hashlib.sha256(files[name]).digest())
    return f"broker-{digest.hexdigest()[:10]}"


_bundles_lock = threading.Lock()


@lru_cache(maxsize=8)
def _bundle(python_version: str, arch: str) -> BrokerBundle:
    requirements = [Requirement(r) for r in runtime_requirements(python_version)]
    if gets_old_amqtt(python_version):
        docopt_wheel()  # into the cache's files, where vendor()'s pip download finds it
    vendored = wheels.vendor(requirements, python_version, [arch])
    files = {path.name: path.read_bytes() for paths in vendored.wheels.values() for path in paths}
    name, data = broker_wheel()
    files[name] = data
    return BrokerBundle(files, f"sdv-studio-broker=={__version__}", _venv_name(files))


def broker_bundle(python_version: str, arch: str) -> BrokerBundle:
    """Our wheel plus the dependencies' wheels (from the shared wheel cache) for one device.

    Blocking (it may run pip); many devices of one kind share one build."""
    with _bundles_lock:
        return _bundle(python_version, arch)


def prepare_broker_wheels(combinations: Iterable[tuple[str, str]]) -> list[str]:
    """Fills the wheel cache with the databroker's dependencies for these (Python, arch) pairs, so a
    deployment from this computer later needs no package index; what could not be had, one line each.
    Run while packaging: the workstation is most likely online then, and the devices often are not."""
    wanted = sorted(set(combinations))
    if any(gets_old_amqtt(python) for python, _ in wanted):
        try:
            docopt_wheel()  # once, before the parallel downloads look for it in the cache
        except wheels.WheelError as exc:
            return [f"the embedded databroker for Python 3.8 and 3.9: {'; '.join(exc.problems)}"]

    def one(python: str, arch: str) -> list[str]:
        try:
            wheels.vendor([Requirement(r) for r in runtime_requirements(python)], python, [arch])
        except wheels.WheelError as exc:
            return [f"the embedded databroker for Python {python} on {arch}: {p.removeprefix('requirements: ')}"
                    for p in exc.problems]
        return []

    with ThreadPoolExecutor(max_workers=4) as pool:
        return [line for lines in pool.map(lambda pair: one(*pair), wanted) for line in lines]
