"""Read-only files installed with SDV Studio: icons and VSS catalogues, and the app templates.

The repository keeps them in its top-level resources/ and templates/ folders; setup.py installs
those as the packages sdv_studio.resources and sdv_studio.templates, so a wheel, an editable
install and the frozen bundle all find them through importlib.resources.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _folder(package: str) -> Path:
    root = resources.files(package)
    # Callers glob these folders and hand their files to Qt and to other processes by path:
    # every supported install (site-packages, editable, frozen) has them on disk, a zipped one would not.
    if not isinstance(root, Path):
        raise RuntimeError(f"{package}: installed as {root!r}, not as a folder: install SDV Studio unzipped")
    return root


def icons_dir() -> Path:
    """The UI's SVG icons, ``<name>.svg``."""
    return _folder("sdv_studio.resources") / "icons"


def templates_dir() -> Path:
    """The app template, the launcher and the ``sdv`` shim the packager adds to an app."""
    return _folder("sdv_studio.templates")


def vss_dir() -> Path:
    """The VSS catalogues: ``default.json`` and ``vss_release_<n>.json`` for each release shipped."""
    return _folder("sdv_studio.resources") / "vss"


def default_vss() -> Path:
    return vss_dir() / "default.json"
