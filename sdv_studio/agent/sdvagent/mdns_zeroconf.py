"""Advertises the device as ``_sdv-agent._tcp`` with python-zeroconf until SIGTERM.

Run by the supervisor with the device's python3 from the agent's folder (the agent itself is
stdlib only): ``python -m sdvagent.mdns_zeroconf '{"name", "port", "properties", "wheels", "site"}'``.
It installs the wheels in ``wheels`` into ``site`` unless done before (with the agent's own
installer; no pip), then imports zeroconf from there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading

from .venvs import install_wheels

SERVICE = "_sdv-agent._tcp.local."


def unpack(wheels: str, site: str) -> None:
    if os.path.isdir(site):
        return

    partial = tempfile.mkdtemp(prefix=".mdns-", dir=os.path.dirname(site))
    try:
        install_wheels(partial, [os.path.join(wheels, n) for n in sorted(os.listdir(wheels)) if n.endswith(".whl")])
        os.rename(partial, site)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def main() -> int:
    conf = json.loads(sys.argv[1])
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    if conf.get("site"):
        unpack(conf["wheels"], conf["site"])
        sys.path.insert(0, conf["site"])
    import zeroconf

    # Only the interface the workstation reached the device through, when the deploy said which.
    interfaces = conf.get("interfaces") or []
    addresses = interfaces or [a for a in zeroconf.get_all_addresses() if not a.startswith("127.")] or ["127.0.0.1"]
    info = zeroconf.ServiceInfo(
        SERVICE, "%s.%s" % (conf["name"], SERVICE), port=int(conf.get("port", 22)),
        properties=conf.get("properties") or {}, server=socket.gethostname() + ".local.",
        addresses=[socket.inet_aton(a) for a in addresses],
    )
    zc = zeroconf.Zeroconf(interfaces=interfaces) if interfaces else zeroconf.Zeroconf()
    try:
        zc.register_service(info, allow_name_change=True)
        print("advertising %s on %s" % (info.name, ", ".join(addresses)), flush=True)
        done.wait()
        zc.unregister_service(info)
    finally:
        zc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
