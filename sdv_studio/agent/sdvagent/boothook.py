"""Bringing the supervisor, and so the apps, back after the device restarts.

Where the supervisor runs as a systemd unit it is enabled at boot (client.py); a user's units start
at boot only with lingering on, which is asked for here. Elsewhere a crontab ``@reboot`` entry
starts it (the supervisor then starts the apps that were running). Deployments report which
(``bootHook`` in the deploy and start answers), so the user knows what a reboot brings back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from . import client
from .layout import Layout
from .sysinfo import systemd_manager_usable

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Optional

MARK = "# sdv-studio agent: start the supervisor at boot"
_TIMEOUT = 10


def ensure(layout: Layout) -> Dict[str, Any]:
    """Make sure something starts the supervisor at boot; ``{"via": "systemd"|"crontab"|None, …}``."""
    if os.path.exists(client.unit_path()) and not os.environ.get("SDV_AGENT_NO_SYSTEMD") and systemd_manager_usable():
        return _systemd()
    if shutil.which("crontab"):
        return _crontab(layout)
    return {"via": None, "reason": "neither systemd nor cron here: after a reboot the apps start again at the "
                                   "next deployment or status"}


def _systemd() -> Dict[str, Any]:
    answer = {"via": "systemd", "unit": client.UNIT}  # type: Dict[str, Any]
    if os.getuid() == 0:
        return answer
    user = _user()
    if not _lingering(user):
        _run(["loginctl", "enable-linger", user])
    answer["linger"] = _lingering(user)
    if not answer["linger"]:
        answer["reason"] = "lingering is off: the unit starts at %s's first login, not at boot " \
                           "(`sudo loginctl enable-linger %s` changes that)" % (user, user)
    return answer


def _user() -> str:
    import pwd  # only here: most calls never need it

    return pwd.getpwuid(os.getuid()).pw_name


def _lingering(user: str) -> bool:
    return os.path.exists(os.path.join("/var/lib/systemd/linger", user))


def entry(layout: Layout) -> str:
    """The crontab line: this interpreter running this agent's ``supervisor start`` for this home."""
    import shlex  # only here: most calls never need it

    command = "SDV_AGENT_HOME=%s %s %s supervisor %s >/dev/null 2>&1" % (
        shlex.quote(layout.base), shlex.quote(sys.executable), shlex.quote(client.agent_script()),
        shlex.quote('{"action": "start"}'))
    return "@reboot " + command.replace("%", "\\%")  # cron reads a bare % as a newline


def _crontab(layout: Layout) -> Dict[str, Any]:
    line = entry(layout)
    listed = _run(["crontab", "-l"])
    table = listed.stdout if listed and listed.returncode == 0 else ""  # 1: "no crontab for …"
    kept = [x for x in table.splitlines() if x != MARK and not _ours(x, layout)]
    wanted = [*kept, MARK, line]
    if table.splitlines() != wanted:
        written = _run(["crontab", "-"], "\n".join(wanted) + "\n")
        if written is None or written.returncode != 0:
            why = written.stderr.strip() if written else "crontab did not run"
            return {"via": None, "reason": "cannot add the @reboot entry to the crontab: %s" % why}
    return {"via": "crontab", "entry": line}


def _ours(line: str, layout: Layout) -> bool:
    """An @reboot entry an agent wrote for this home (maybe another version's, or another Python's)."""
    return line.startswith("@reboot ") and " supervisor " in line and layout.base in line


def _run(argv: List[str], stdin: Optional[str] = None) -> Optional[subprocess.CompletedProcess[str]]:
    try:
        return subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None
