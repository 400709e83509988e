"""The embedded databroker, packed for a device: a wheel of sdv_studio.broker plus its
dependencies' wheels for the device's Python and architecture, installed offline there.

Only the broker goes to the device (not the GUI, CLI or their dependencies), so the wheel is
built here from the broker's own files rather than from the whole sdv-studio project.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from sdv_studio import __version__
from sdv_studio.core.packaging import wheels

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the sdv_studio folder
_DIST = "sdv_studio_broker"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # reproducible wheel bytes


def _pin(name: str) -> str:
    """The version this workstation runs the broker with: its generated stubs need a matching runtime."""
    try:
        return f"{name}=={metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return name


def runtime_requirements() -> list[str]:
    return [_pin("grpcio"), _pin("protobuf"), _pin("amqtt")]


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
    requires = "".join(f"Requires-Dist: {r}\n" for r in runtime_requirements())
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: sdv-studio-broker\nVersion: {__version__}\n"
        f"Summary: SDV Studio's embedded KUKSA databroker\nRequires-Python: >=3.9\n{requires}"
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
    requirements = [Requirement(r) for r in runtime_requirements()]
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
