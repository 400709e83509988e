"""Installed apps on disk: one folder per release, a ``current`` symlink, history and pruning.

    apps/<name>/releases/<version>-<id8>/   the unpacked package, its venv/ and release.json
    apps/<name>/current -> releases/<...>   switched atomically (rename of a fresh symlink)
    apps/<name>/app.json                    activation history and the app's run settings
    apps/<name>/venvs/<key>/                venvs shared by releases with the same requirements
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time

from .errors import AgentError, BadRequest
from .jsonfile import read_json, write_json
from .layout import Layout
from .package import PER_COMBINATION, SUMS, parse_sums

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Iterator, List, Optional

DEFAULT_KEEP = 3


def release_id(version: str, package_id: str) -> str:
    # The id part keeps two builds of one version apart (a redeploy without a version bump).
    return "%s-%s" % (version, package_id[4:12])


class AppStore:
    def __init__(self, layout: Layout, name: str) -> None:
        self.layout = layout
        self.name = name
        self.root = layout.app_dir(name)

    @property
    def releases_dir(self) -> str:
        return os.path.join(self.root, "releases")

    @property
    def venvs_dir(self) -> str:
        return os.path.join(self.root, "venvs")

    def release_dir(self, release: str) -> str:
        # Releases come from requests too (rollback, deploy by release): one plain folder name only.
        if not isinstance(release, str) or release in ("", ".", "..") or "/" in release or "\x00" in release:
            raise BadRequest("release: %r is not a release name" % (release,))
        return os.path.join(self.releases_dir, release)

    def exists(self) -> bool:
        return os.path.isdir(self.root)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialises commands on one app (two deployments to one device must not interleave)."""
        os.makedirs(self.root, exist_ok=True)
        with open(os.path.join(self.root, ".lock"), "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield

    # -- releases -----------------------------------------------------------------------------
    def releases(self) -> List[Dict[str, Any]]:
        """Complete releases (release.json is written last), oldest first."""
        found = []
        if os.path.isdir(self.releases_dir):
            for rel in os.listdir(self.releases_dir):
                info = read_json(os.path.join(self.release_dir(rel), "release.json"))
                if isinstance(info, dict):
                    found.append(info)
        return sorted(found, key=lambda r: r.get("installedAt", 0))

    def release(self, release: str) -> Dict[str, Any]:
        info = read_json(os.path.join(self.release_dir(release), "release.json"))
        if not isinstance(info, dict):
            raise AgentError("%s has no installed release %s" % (self.name, release))
        return info

    def find_package(self, package_id: str) -> Optional[Dict[str, Any]]:
        for info in self.releases():
            if info.get("packageId") == package_id:
                return info
        return None

    def file_sums(self, release: str) -> Dict[str, str]:
        return parse_sums(os.path.join(self.release_dir(release), SUMS))

    # -- current and history ----------------------------------------------------------------------
    def current(self) -> Optional[str]:
        try:
            return os.path.basename(os.readlink(os.path.join(self.root, "current")))
        except OSError:
            return None

    def set_current(self, release: str) -> None:
        link = os.path.join(self.root, "current")
        tmp = link + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.path.join("releases", release), tmp)
        os.replace(tmp, link)  # rename(2) swaps the link atomically
        meta = self.meta()
        meta["history"] = [h for h in meta.get("history", []) if h["release"] != release]
        meta["history"].append({"release": release, "at": time.time()})
        self.save_meta(meta)

    def previous(self) -> Optional[str]:
        """The most recently active release other than the current one that is still installed."""
        current = self.current()
        installed = {r["release"] for r in self.releases()}
        for entry in reversed(self.meta().get("history", [])):
            if entry["release"] != current and entry["release"] in installed:
                return entry["release"]
        return None

    def meta(self) -> Dict[str, Any]:
        return read_json(os.path.join(self.root, "app.json"), {}) or {}

    def save_meta(self, meta: Dict[str, Any]) -> None:
        write_json(os.path.join(self.root, "app.json"), meta)

    def discard_incomplete(self) -> List[str]:
        """Releases without their release.json and venvs without .complete: what an install cut
        short left. Call with the app's lock held."""
        removed = []
        for folder, marker in ((self.releases_dir, "release.json"), (self.venvs_dir, ".complete")):
            for entry in os.listdir(folder) if os.path.isdir(folder) else []:
                path = os.path.join(folder, entry)
                if os.path.isdir(path) and not os.path.exists(os.path.join(path, marker)):
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
        return removed

    # -- pruning --------------------------------------------------------------------------------
    def prune(self, keep: int, protect: List[str]) -> List[str]:
        """Removes all but the ``keep`` most recently used releases, never one in ``protect``."""
        used = {h["release"]: h["at"] for h in self.meta().get("history", [])}
        ranked = sorted(self.releases(), key=lambda r: max(used.get(r["release"], 0), r.get("installedAt", 0)),
                        reverse=True)
        removed = []
        for info in ranked[max(keep, 1):]:
            rel = info["release"]
            if rel in protect or rel == self.current():
                continue
            shutil.rmtree(self.release_dir(rel), ignore_errors=True)
            removed.append(rel)
        self._drop_unused_venvs()
        return removed

    def _drop_unused_venvs(self) -> None:
        if not os.path.isdir(self.venvs_dir):
            return
        used = {os.path.realpath(os.path.join(self.release_dir(r["release"]), "venv")) for r in self.releases()}
        for key in os.listdir(self.venvs_dir):
            path = os.path.join(self.venvs_dir, key)
            if os.path.realpath(path) not in used:
                shutil.rmtree(path, ignore_errors=True)


def all_apps(layout: Layout) -> List[str]:
    if not os.path.isdir(layout.apps):
        return []
    return sorted(n for n in os.listdir(layout.apps) if not n.startswith("."))


def discard_leftovers(layout: Layout) -> List[str]:
    """Remove what installs cut short left (staging folders, releases without their release.json,
    venvs never completed); call with the device's deployment lock held, so none is running."""
    removed = []  # type: List[str]
    for name in sorted(os.listdir(layout.apps)) if os.path.isdir(layout.apps) else []:
        store = AppStore(layout, name)
        if name.startswith(".incoming-"):  # an install's staging folder (install.py)
            shutil.rmtree(store.root, ignore_errors=True)
            removed.append(store.root)
        elif not name.startswith(".") and os.path.isdir(store.root):
            with store.locked():
                removed += store.discard_incomplete()
    return removed


def file_index(layout: Layout) -> Dict[str, str]:
    """``{sha256: path}`` of every package file on the device: the material a delta is built from."""
    index = {}  # type: Dict[str, str]
    for name in all_apps(layout):
        store = AppStore(layout, name)
        for info in store.releases():
            root = store.release_dir(info["release"])
            try:
                sums = store.file_sums(info["release"])
            except (OSError, AgentError):
                continue
            for path, digest in sums.items():
                # A release lacks the wheels and pins of other Pythons and arches (venvs.unneeded).
                if digest not in index and (not path.startswith(PER_COMBINATION)
                                            or os.path.isfile(os.path.join(root, path))):
                    index[digest] = os.path.join(root, path)
    return index
