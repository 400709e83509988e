"""One virtual environment per installed version, filled offline from the package's wheels."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import List

from .errors import AgentError
from .sysinfo import arch

_TAIL = 4000


def venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def create(venv: str, find_links: List[str], requirements: List[str], requirements_file: str = "") -> None:
    """``python -m venv`` then an offline pip install; without requirements, no pip at all (fast)."""
    need_pip = bool(requirements or requirements_file)
    cmd = [sys.executable, "-m", "venv", venv]
    if not need_pip:
        cmd.insert(3, "--without-pip")
    _run(cmd, "creating the virtual environment failed")
    if not need_pip:
        return
    pip = [venv_python(venv), "-m", "pip", "install", "--no-index", "--disable-pip-version-check", "--no-input"]
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
