"""Where the agent keeps its files on the device.

``SDV_AGENT_HOME`` overrides everything; otherwise ``/var/lib/sdv-studio`` for root and
``$XDG_DATA_HOME/sdv-studio`` (``~/.local/share/sdv-studio``) for anyone else.
"""

from __future__ import annotations

import os
import re

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# A release folder is named after the version: semantic versions only, so it is one path component.
_VERSION = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")
# AF_UNIX paths are limited to 108 bytes on Linux; leave room for the NUL.
_MAX_SOCKET_PATH = 100


def valid_name(name: object) -> bool:
    # fullmatch: ``$`` would let a trailing newline through.
    return isinstance(name, str) and bool(_NAME.fullmatch(name))


def valid_version(version: object) -> bool:
    return isinstance(version, str) and bool(_VERSION.fullmatch(version))


class Layout:
    def __init__(self, base: str = "") -> None:
        self.base = os.path.abspath(base or default_base())

    @property
    def apps(self) -> str:
        return os.path.join(self.base, "apps")

    @property
    def logs(self) -> str:
        return os.path.join(self.base, "logs")

    @property
    def run(self) -> str:
        return os.path.join(self.base, "run")

    @property
    def uploads(self) -> str:
        return os.path.join(self.base, "uploads")

    @property
    def venvs(self) -> str:
        return os.path.join(self.base, "venvs")

    @property
    def supervisor_state(self) -> str:
        return os.path.join(self.run, "supervisor.json")

    @property
    def supervisor_lock(self) -> str:
        return os.path.join(self.run, "supervisor.lock")

    @property
    def supervisor_log(self) -> str:
        return os.path.join(self.logs, "supervisor.log")

    @property
    def socket(self) -> str:
        path = os.path.join(self.run, "supervisor.sock")
        if len(path.encode()) <= _MAX_SOCKET_PATH:
            return path
        # A deep home: keep the socket in a short per-user, per-home temp folder instead. (Imported
        # here: hashlib and tempfile cost ~5 ms of start-up in every agent call that never needs them.)
        import hashlib
        import tempfile

        tag = hashlib.sha1(self.base.encode()).hexdigest()[:12]
        return os.path.join(tempfile.gettempdir(), "sdv-agent-%d-%s" % (os.getuid(), tag), "sock")

    @property
    def metrics_socket(self) -> str:
        """Where apps' meters send their KUKSA counters (a datagram socket the supervisor reads):
        beside the supervisor's socket, so as short a path."""
        return os.path.join(os.path.dirname(self.socket), "metrics.sock")

    def app_dir(self, name: str) -> str:
        return os.path.join(self.apps, name)

    def app_log(self, name: str) -> str:
        return os.path.join(self.logs, name + ".log")

    def ensure(self) -> None:
        for path in (self.apps, self.logs, self.run, self.uploads, self.venvs, os.path.dirname(self.socket)):
            os.makedirs(path, mode=0o700, exist_ok=True)
        socket_dir = os.path.dirname(self.socket)
        if not socket_dir.startswith(self.base + os.sep):
            _check_private(socket_dir)


def _check_private(path: str) -> None:
    """A folder in the shared temp dir may have been made by someone else first: whoever owns the
    supervisor's socket folder could stand in for the supervisor."""
    import stat

    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        from .errors import AgentError

        raise AgentError("%s: not a private folder of this user (owner uid %d, mode %o); remove it" % (
            path, info.st_uid, stat.S_IMODE(info.st_mode)))


def default_base() -> str:
    env = os.environ.get("SDV_AGENT_HOME")
    if env:
        return env
    if os.getuid() == 0:
        return "/var/lib/sdv-studio"
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "sdv-studio")
