"""One virtual environment per installed version, filled offline from the package's wheels."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from typing import List

from .errors import AgentError
from .progress import report
from .sysinfo import arch

_TAIL = 4000


def venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def create(venv: str, find_links: List[str], requirements: List[str], requirements_file: str = "") -> None:
    """``python -m venv`` then an offline pip install; without requirements, no pip at all (fast)."""
    if not (requirements or requirements_file):
        # In this process: a child interpreter would cost more than the venv itself.
        import venv as venv_module

        try:
            venv_module.EnvBuilder(with_pip=False, symlinks=True).create(venv)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise AgentError("creating the virtual environment failed: %s" % exc) from exc
        return
    report("requirements", count=len(requirements), file=os.path.basename(requirements_file) or None)
    _run([sys.executable, "-m", "venv", venv], "creating the virtual environment failed")
    # --no-compile: byte-compiling every installed module costs more CPU than the install itself on a
    # small board; Python compiles what the app really imports on first use.
    pip = [venv_python(venv), "-m", "pip", "install", "--no-index", "--no-compile", "--disable-pip-version-check",
           "--no-input"]
    for link in find_links:
        if os.path.isdir(link):
            pip += ["--find-links", link]
    if requirements_file:
        pip += ["-r", requirements_file]
    pip += requirements
    _run(pip, "installing the requirements failed")


def package_find_links(root: str) -> List[str]:
    return [os.path.join(root, "wheels", "any"), os.path.join(root, "wheels", arch())]


def _run(cmd: List[str], message: str) -> None:
    env = dict(os.environ, PIP_NO_INDEX="1", PYTHONDONTWRITEBYTECODE="1")
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AgentError("%s: %s" % (message, exc)) from exc
    if done.returncode != 0:
        output = done.stdout.decode("utf-8", "replace")[-_TAIL:]
        raise AgentError("%s (exit %d)" % (message, done.returncode), {"output": output})


def environment_key(release_dir: str) -> str:
    """What a release's venv depends on: the Python, the requirements and the wheels for this arch.

    Two releases with the same key can share one venv, so a one-line change to the app's code
    installs nothing."""
    digest = hashlib.sha256(("%d.%d\n" % sys.version_info[:2]).encode())
    wanted = ("requirements.txt", "wheels/any/", "wheels/%s/" % arch())
    with open(os.path.join(release_dir, "SHA256SUMS"), encoding="utf-8") as sums:
        for line in sorted(sums):
            name = line.rstrip("\n").split("  ", 1)[-1]
            if name.startswith(wanted):
                digest.update(line.encode())
    return digest.hexdigest()[:16]


def shared(venvs_dir: str, key: str, find_links: List[str], requirements_file: str) -> str:
    """The venv for ``key`` under ``venvs_dir``, created once (atomically: a half-made one is never used)."""
    path = os.path.join(venvs_dir, key)
    if os.path.exists(os.path.join(path, ".complete")):
        return path
    os.makedirs(venvs_dir, exist_ok=True)
    shutil.rmtree(path, ignore_errors=True)
    create(path, find_links, [], requirements_file)
    open(os.path.join(path, ".complete"), "w").close()
    return path
