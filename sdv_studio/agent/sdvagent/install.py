"""Installing a release: from an uploaded package file or an uploaded folder (full or delta)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

from . import package, venvs
from .errors import AgentError, BadRequest
from .jsonfile import write_json
from .layout import Layout, valid_name
from .progress import report
from .store import AppStore, file_index, release_id

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict


def install(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Unpacks (or assembles), verifies, creates the venv; never touches what is running."""
    source_file = str(args.get("package") or "")
    source_dir = str(args.get("dir") or "")
    if bool(source_file) == bool(source_dir):
        raise BadRequest("install: give exactly one of package (a .tar.gz) or dir (an uploaded folder)")
    layout.ensure()
    incoming = tempfile.mkdtemp(prefix=".incoming-", dir=layout.apps)
    stats = {}  # type: Dict[str, int]
    try:
        staged = os.path.join(incoming, "pkg")
        if source_file:
            if not os.path.isfile(source_file):
                raise BadRequest("package: no such file %s" % source_file)
            package.unpack(source_file, staged)
        else:
            if not os.path.isdir(source_dir):
                raise BadRequest("dir: no such folder %s" % source_dir)
            stats = package.assemble(source_dir, staged, file_index(layout), optional=package.PER_COMBINATION)
        unneeded = venvs.unneeded(staged)
        for name in unneeded:  # another Python's or arch's files: never kept, even where the device had them
            path = os.path.join(staged, name)
            if os.path.isfile(path):
                os.remove(path)
        package.verify(staged, may_lack=unneeded)
        info = package.PackageInfo(staged)
        if not valid_name(info.name):
            raise AgentError("manifest.json: name %r is not lowercase letters, digits and hyphens" % info.name)
        store = AppStore(layout, info.name)
        with store.locked():
            result = _place(store, info, staged)
        report("installed", release=result["release"], alreadyInstalled=result["alreadyInstalled"])
    except OSError as exc:  # e.g. the disk is full: an answer to act on, not an internal error
        path = exc.filename2 or exc.filename  # a copy's target, else the file it failed on
        where = " (%s)" % path if path else ""
        raise AgentError("the install failed: %s%s" % (exc.strerror or exc, where)) from exc
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
        _discard_upload(layout, source_file or source_dir)  # installed or refused: never needed again
    result.update(stats)
    return result


def _place(store: AppStore, info: package.PackageInfo, staged: str) -> Dict[str, Any]:
    release = release_id(info.version, info.package_id)
    base = {"name": info.name, "version": info.version, "packageId": info.package_id, "release": release}
    if store.find_package(info.package_id):
        return dict(base, alreadyInstalled=True)
    target = store.release_dir(release)
    has_requirements = bool(info.requirements)  # read before the move: ``info`` points at the staged folder
    os.makedirs(store.releases_dir, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)  # a leftover from an interrupted install
    os.rename(staged, target)
    try:
        # Releases with the same requirements and wheels share one venv (built where it stays: a
        # venv records its own path); the release links to it.
        env = venvs.release_environment(store.venvs_dir, target, has_requirements)
        os.symlink(os.path.relpath(env, target), os.path.join(target, "venv"))
        record = dict(base, installedAt=time.time(), python="%d.%d" % sys.version_info[:2],
                      wantedPython=info.manifest.get("pythonVersion"))
        write_json(os.path.join(target, "release.json"), record)  # last: marks the release complete
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return dict(base, alreadyInstalled=False)


def _discard_upload(layout: Layout, path: str) -> None:
    """Uploads live in the agent's uploads folder; anything the caller pointed at elsewhere stays."""
    real = os.path.realpath(path)
    if os.path.dirname(real) != os.path.realpath(layout.uploads):
        return
    if os.path.isdir(real):
        shutil.rmtree(real, ignore_errors=True)
    elif os.path.exists(real):
        os.unlink(real)
