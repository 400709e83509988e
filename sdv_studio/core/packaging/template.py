"""The files SDV Studio adds to an app: the kuksa-client template, the launcher, the KUKSA meter,
the ``sdv`` shim."""

from __future__ import annotations

import re
from pathlib import Path

from sdv_studio import shipped

APP_TEMPLATE = "python_app_template.py"
LAUNCHER = "sdv_launcher.py"
METER = "sdv_meter.py"
BROKER_ACCESS = "sdv_broker_access.py"  # the launcher imports it from beside itself
_PLACEHOLDER = re.compile(r"^\{\{APP_LOGIC\}\}.*$", re.MULTILINE)
_FUTURE = re.compile(r"^from __future__ import [^\n]*\n", re.MULTILINE)


def _read(name: str) -> str:
    return (shipped.templates_dir() / name).read_text(encoding="utf-8")


def render_app(fragment: str) -> str:
    """The kuksa-client app template with the fragment as its app logic.

    ``from __future__`` imports must open a module, so the fragment's join the template's own.
    """
    futures = "".join(_FUTURE.findall(fragment))
    body = _FUTURE.sub("", fragment).rstrip("\n")
    rendered = _PLACEHOLDER.sub(lambda _: body, _read(APP_TEMPLATE), count=1)
    own = _FUTURE.search(rendered)
    if own is None or not futures:
        return rendered
    return rendered[: own.end()] + futures + rendered[own.end():]


def launcher() -> dict[str, bytes]:
    """The launcher and the module it imports, by file name."""
    return {name: _read(name).encode("utf-8") for name in (LAUNCHER, BROKER_ACCESS)}


def meter() -> bytes:
    return _read(METER).encode("utf-8")


def sdv_shim() -> dict[str, bytes]:
    """``sdv/…`` files of the compatibility package, by path inside it."""
    root = shipped.templates_dir() / "sdv_shim"
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def model_files(model_dir: Path) -> dict[str, bytes]:
    """The generated ``vehicle`` package's files, by path starting with ``vehicle/``."""
    return {f"vehicle/{p.relative_to(model_dir).as_posix()}": p.read_bytes()
            for p in sorted(model_dir.rglob("*.py")) if "__pycache__" not in p.parts}
