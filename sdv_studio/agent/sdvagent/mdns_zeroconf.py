"""Advertises the device as ``_sdv-agent._tcp`` with python-zeroconf until SIGTERM.

Run by the supervisor with the python of a venv holding zeroconf (the agent itself is stdlib only):
``python mdns_zeroconf.py '{"name": ..., "port": 22, "properties": {...}}'``.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading

SERVICE = "_sdv-agent._tcp.local."


def main() -> int:
    import zeroconf

    conf = json.loads(sys.argv[1])
    addresses = [a for a in zeroconf.get_all_addresses() if not a.startswith("127.")] or ["127.0.0.1"]
    info = zeroconf.ServiceInfo(
        SERVICE, "%s.%s" % (conf["name"], SERVICE), port=int(conf.get("port", 22)),
        properties=conf.get("properties") or {}, server=socket.gethostname() + ".local.",
        addresses=[socket.inet_aton(a) for a in addresses],
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    zc = zeroconf.Zeroconf()
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
