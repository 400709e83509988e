"""What the frozen bundle carries besides compiled modules: shared by sdv-studio.spec and the tests.

Kept free of PyInstaller imports so tests/packaging can check the list without building anything.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent

# The repository's top-level folders that install as packages (setup.py maps them), by destination.
# Read through importlib.resources (sdv_studio.shipped), which in the bundle means sys._MEIPASS/<package path>.
MAPPED_DATA = {"resources": "sdv_studio/resources", "templates": "sdv_studio/templates"}

# Packages needed as source files, not only compiled into the archive: the agent is uploaded to
# devices as it is, and the broker (with its generated proto stubs) is packed into a wheel for
# devices from its files (sdv_studio.core.device_wheels.broker_bundle).
SOURCE_PACKAGES = ("sdv_studio/agent", "sdv_studio/broker")
SOURCE_SUFFIXES = (".py", ".pyi")

# Distributions whose metadata is read at run time: the broker wheel pins grpcio, protobuf and
# amqtt to the versions installed here; amqtt and keyring find their plugins through entry points.
METADATA = ("grpcio", "protobuf", "amqtt", "keyring")

# Imported by name at run time, which PyInstaller's static analysis cannot see (uvicorn picks its
# event loop and HTTP parser that way: without them the API falls back to asyncio and h11, ~3x slower).
HIDDEN_PACKAGES = ("amqtt.plugins", "keyring.backends", "uvicorn")
HIDDEN_IMPORTS = ("sdv_studio.gui.self_test", "sdv_studio.resources", "sdv_studio.templates")

# Dev-only or device-only modules that must not be analysed into the app: the proto regenerator
# needs grpc_tools; the agent's own package imports itself as a top-level ``sdvagent``; the
# templates are files the packager copies into apps (shipped as data above), run only on devices.
EXCLUDED_MODULE_PREFIXES = ("sdv_studio.broker.proto.regenerate", "sdv_studio.agent.", "sdv_studio.templates.")


def _shipped(path: Path) -> bool:
    return path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"


def data_files(root: Path = ROOT) -> list[tuple[str, str]]:
    """(source file, destination folder inside the bundle) for every data file, sorted."""
    pairs: list[tuple[str, str]] = []
    for top, destination in MAPPED_DATA.items():
        # The packages' own __init__.py are compiled into the archive (HIDDEN_IMPORTS), not copied.
        pairs += [(str(f), (PurePosixPath(destination) / f.parent.relative_to(root / top).as_posix()).as_posix())
                  for f in (root / top).rglob("*") if _shipped(f) and f != root / top / "__init__.py"]
    for package in SOURCE_PACKAGES:
        pairs += [(str(f), f.parent.relative_to(root).as_posix()) for f in (root / package).rglob("*")
                  if _shipped(f) and f.suffix in SOURCE_SUFFIXES]
    return sorted(pairs)


def keep_module(name: str) -> bool:
    """Whether a module found under sdv_studio belongs in the app's archive."""
    return not name.startswith(EXCLUDED_MODULE_PREFIXES)


def version(root: Path = ROOT) -> str:
    """sdv_studio.__version__, read from the source so the spec needs no import of the app."""
    text = (root / "sdv_studio" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise ValueError("sdv_studio/__init__.py has no __version__")
    return match.group(1)
