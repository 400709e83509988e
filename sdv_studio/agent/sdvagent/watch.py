"""The supervisor's periodic health checks: each running app's endpoint asked every
``healthInterval`` seconds (30 unless the deployment said otherwise), in a thread of its own so a
slow answer never holds up the supervisor's requests."""

from __future__ import annotations

import threading
import time

from . import health, procs

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Set, Tuple

DEFAULT_INTERVAL = 30.0


def interval(inst: Dict[str, Any]) -> float:
    return float(inst.get("healthInterval") or DEFAULT_INTERVAL)


class HealthWatch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asking: Set[str] = set()
        self._done: List[Tuple[str, Dict[str, Any]]] = []

    def tick(self, instances: Dict[str, Dict[str, Any]]) -> None:
        """Starts the checks that are due. Only apps past their gate (``restart`` on) are checked
        here: during the gate the deployment asks itself."""
        now = time.monotonic()
        for inst in instances.values():
            if (inst.get("want") != "running" or inst.get("kind") != "app" or not inst.get("pid")
                    or not inst.get("restart", True) or not (inst.get("health") or {}).get("path")
                    or now < inst.get("nextCheck", 0.0)):
                continue
            inst["nextCheck"] = now + interval(inst)
            with self._lock:
                if inst["id"] in self._asking:
                    continue
                self._asking.add(inst["id"])
            threading.Thread(target=self._ask, args=(inst["id"], dict(inst["health"]), inst["pid"],
                                                     inst.get("startTicks")), daemon=True).start()

    def _ask(self, inst_id: str, check: Dict[str, Any], pid: int, start_ticks: Any) -> None:
        alive = procs.alive(pid, start_ticks)
        seen = health.verdict(health.probe(check) if alive else None, alive)
        with self._lock:
            self._asking.discard(inst_id)
            self._done.append((inst_id, dict(seen, pid=pid)))

    def finished(self) -> List[Tuple[str, Dict[str, Any]]]:
        """The checks that ended since the last call: (instance id, verdict with the pid it was about)."""
        with self._lock:
            done, self._done = self._done, []
        return done
