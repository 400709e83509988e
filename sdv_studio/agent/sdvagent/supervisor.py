"""The supervisor: one long-lived process per device user that keeps app instances running.

It owns ``run/supervisor.json`` (every instance it manages) and answers one JSON request per
connection on a unix socket. Instances are started in their own session writing to their own log;
when one exits while wanted, it is started again after an exponential back-off. A running app's
health endpoint is asked again every ``healthInterval`` seconds (``watch``); the last verdict is
kept as ``lastHealth``. If the supervisor itself dies, its instances keep running and the next
supervisor adopts them from the state file.
Once a second it samples the device and its instances for ``metrics`` (``sampler``).
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

from . import AGENT_VERSION, client, limits, logs, procs, sampler, watch
from .jsonfile import read_json, write_json
from .layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Optional

TICK = 0.2
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 60.0
# A run this long counts as a success: the next crash starts the back-off from the beginning.
STABLE_AFTER = 30.0
ROTATE_EVERY = 5.0
STOP_TIMEOUT = 10.0


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Supervisor:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.instances = {}  # type: Dict[str, Dict[str, Any]]
        self.children = {}  # type: Dict[str, subprocess.Popen]
        self.running = True
        self.dirty = False
        self.watch = watch.HealthWatch()
        self.sampler = sampler.Sampler(layout.metrics_socket)
        self.bundle = client.agent_bundle()  # the agent files it runs: a newer agent replaces it

    # -- lifecycle ---------------------------------------------------------------------------
    def serve(self) -> int:
        self.layout.ensure()
        with open(self.layout.supervisor_lock, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return 0  # another supervisor already runs for this home
            with open(os.path.join(self.layout.run, "supervisor.pid"), "w") as f:
                f.write(str(os.getpid()))
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            server = self._listen()
            self.sampler.open()
            try:
                self._adopt()
                self._loop(server)
            finally:
                self.sampler.close()
                server.close()
                if os.path.exists(self.layout.socket):
                    os.unlink(self.layout.socket)
                self._save()
        return 0

    def _loop(self, server: socket.socket) -> None:
        last_rotate = 0.0
        while self.running:
            ready, _, _ = select.select([server], [], [], TICK)
            if ready:
                self._handle(server)
            self._tick()
            self._watch_health()
            self.sampler.tick(self.instances)
            if time.monotonic() - last_rotate > ROTATE_EVERY:
                last_rotate = time.monotonic()
                self._rotate()
            if self.dirty:
                self._save()

    def _on_signal(self, _signum: int, _frame: Any) -> None:
        # Apps keep running: the next supervisor adopts them.
        self.running = False

    def _listen(self) -> socket.socket:
        path = self.layout.socket
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        if os.path.exists(path):
            os.unlink(path)  # stale: we hold the lock, so nobody else is serving it
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o077)
        try:
            server.bind(path)
        finally:
            os.umask(old)
        server.listen(16)
        return server

    def _adopt(self) -> None:
        state = read_json(self.layout.supervisor_state, {}) or {}
        for inst in (state.get("instances") or {}).values():
            self.instances[inst["id"]] = inst
            inst["nextCheck"] = 0.0  # a monotonic time of the supervisor before: check soon
            if inst.get("want") != "running":
                continue
            pid = inst.get("pid")
            if pid and procs.alive(pid, inst.get("startTicks")):
                continue  # still running from before: watch it by pid
            inst["pid"] = None
            inst["nextStart"] = 0.0
        self.dirty = True

    def _save(self) -> None:
        try:
            write_json(self.layout.supervisor_state, {"instances": self.instances})
        except OSError:  # e.g. the disk is full: keep supervising, and try again next tick
            return
        self.dirty = False

    # -- requests ----------------------------------------------------------------------------
    def _handle(self, server: socket.socket) -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(5)
            try:
                request = json.loads(_read_all(conn).decode("utf-8"))
                reply = self.dispatch(request)
            except Exception as exc:  # one bad request must not bring the supervisor down
                reply = {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
            with contextlib.suppress(OSError):  # the client gave up waiting
                conn.sendall(json.dumps(reply).encode("utf-8"))

    def dispatch(self, request: Dict[str, Any]) -> Dict[str, Any]:
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "pid": os.getpid(), "version": AGENT_VERSION, "bundle": self.bundle}
        if op == "list":
            self._tick()
            return {"ok": True, "instances": self._view(request.get("app"))}
        if op == "metrics":
            since = request.get("since")
            return dict(self.sampler.report(self.instances, float(since) if since is not None else None), ok=True)
        if op == "spawn":
            return {"ok": True, "instance": self.spawn(request["instance"])}
        if op == "update":
            inst = self._get(request["id"])
            for key in ("restart", "app", "release", "lastHealth", "healthInterval"):
                if key in request:
                    inst[key] = request[key]
            if "lastHealth" in request or "healthInterval" in request:  # a check now: the next is an interval away
                inst["nextCheck"] = time.monotonic() + watch.interval(inst)
            self.dirty = True
            return {"ok": True, "instance": dict(inst)}
        if op == "stop":
            return {"ok": True, "instance": self.stop(request["id"], float(request.get("timeout", STOP_TIMEOUT)))}
        if op == "remove":
            self.stop(request["id"], float(request.get("timeout", STOP_TIMEOUT)))
            del self.instances[request["id"]]
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._env_file(request["id"]))
            self.dirty = True
            return {"ok": True}
        if op == "shutdown":
            if request.get("stopAll"):
                for inst_id in list(self.instances):
                    self.stop(inst_id, float(request.get("timeout", STOP_TIMEOUT)))
            self.running = False
            return {"ok": True}
        return {"ok": False, "error": "unknown op %r" % (op,)}

    def _get(self, inst_id: str) -> Dict[str, Any]:
        if inst_id not in self.instances:
            raise KeyError("no instance %s" % inst_id)
        return self.instances[inst_id]

    def _view(self, app: Optional[str]) -> List[Dict[str, Any]]:
        return [dict(i) for i in self.instances.values() if app is None or i.get("app") == app]

    # -- processes ---------------------------------------------------------------------------
    def spawn(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        inst_id = spec["id"]
        if inst_id in self.instances:
            self.stop(inst_id, STOP_TIMEOUT)
        inst = dict(spec)
        delay = float(inst.pop("delay", 0) or 0)
        inst.update({"want": "running", "pid": None, "restarts": 0, "failures": 0, "status": "starting",
                     "lastExit": None, "nextStart": 0.0})
        self.instances[inst_id] = inst
        if delay > 0:  # started by _tick when due; not counted as a restart
            inst.update({"status": "scheduled", "nextStart": time.monotonic() + delay})
        else:
            self._start(inst)
        self.dirty = True
        return dict(inst)

    def _start(self, inst: Dict[str, Any]) -> None:
        unit = "sdv-%s-%d" % (inst["id"].replace("@", "-").replace(":", "-"), int(time.time() * 1000))
        sandbox = None
        if inst.get("sandbox"):  # isolated: what a systemd service needs to run the app as we would
            sandbox = dict(inst["sandbox"], cwd=inst.get("cwd") or self.layout.base, env=inst.get("env") or {},
                           envFile=self._env_file(inst["id"]))
        plan = limits.plan(unit, inst.get("memory"), inst.get("cpu"), inst.get("useSystemd"), sandbox)
        inst["limits"] = plan.report
        inst["stopArgv"] = plan.stop
        log_path = inst["log"]
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        env = dict(os.environ)
        env.update(inst.get("env") or {})
        env.pop("SDV_AGENT_HOME", None)
        env.pop("SDV_METRICS_SOCKET", None)
        if inst.get("kind") == "app":  # where its meter sends its KUKSA counters (sampler)
            env["SDV_METRICS_SOCKET"] = self.layout.metrics_socket
        with open(log_path, "ab") as log:
            log.write(("[sdv-agent %s] starting %s\n" % (now_iso(), inst["id"])).encode())
            log.flush()
            try:
                child = subprocess.Popen(
                    plan.prefix + inst["argv"], cwd=inst.get("cwd") or None, env=env,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, close_fds=True, preexec_fn=plan.preexec(),
                )
            except (OSError, ValueError) as exc:  # ValueError: an argv or env the OS cannot take
                log.write(("[sdv-agent %s] cannot start: %s\n" % (now_iso(), exc)).encode())
                self._exited(inst, 127)
                return
        self.children[inst["id"]] = child
        inst.pop("lastHealth", None)  # about the process before
        inst.update({"pid": child.pid, "startTicks": procs.start_ticks(child.pid), "startedAt": now_iso(),
                     "startedMono": time.monotonic(), "status": "running",
                     "nextCheck": time.monotonic() + watch.interval(inst)})

    def _env_file(self, inst_id: str) -> str:
        """A sandboxed instance's variables, for its systemd service (sandbox.write_env_file)."""
        return os.path.join(self.layout.run, "env", inst_id.replace("@", "-").replace(":", "-") + ".env")

    def _tick(self) -> None:
        for inst in list(self.instances.values()):
            if inst.get("want") != "running":
                continue
            pid = inst.get("pid")
            if pid:
                code = self._exit_code(inst)
                if code is not None:
                    self._exited(inst, code)
            elif inst.get("restart", True) and time.monotonic() >= inst.get("nextStart", 0.0):
                if inst.get("status") != "scheduled":
                    inst["restarts"] = inst.get("restarts", 0) + 1
                self._start(inst)
                self.dirty = True

    def _watch_health(self) -> None:
        self.watch.tick(self.instances)
        for inst_id, seen in self.watch.finished():
            inst = self.instances.get(inst_id)
            if inst is not None and inst.get("pid") == seen.pop("pid"):  # not about a process since replaced
                inst["lastHealth"] = seen
                self.dirty = True

    def _exit_code(self, inst: Dict[str, Any]) -> Optional[int]:
        child = self.children.get(inst["id"])
        if child is not None:
            code = child.poll()
            return None if code is None else code
        # Adopted from an earlier supervisor: not our child, so only liveness is known.
        return None if procs.alive(inst["pid"], inst.get("startTicks")) else -1

    def _exited(self, inst: Dict[str, Any], code: int) -> None:
        self.children.pop(inst["id"], None)
        if code == 0 and inst.get("once"):  # a task that ran to its end (the staged watcher): not restarted
            inst.update({"pid": None, "want": "stopped", "status": "stopped", "stoppedAt": now_iso(),
                         "lastExit": {"code": code, "at": now_iso()}})
            self.dirty = True
            return
        ran = time.monotonic() - inst.get("startedMono", time.monotonic())
        inst["failures"] = 0 if ran > STABLE_AFTER else inst.get("failures", 0) + 1
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** (inst["failures"] - 1))) if inst["failures"] else BACKOFF_FIRST
        inst.update({"pid": None, "status": "error", "lastExit": {"code": code, "at": now_iso()},
                     "nextStart": time.monotonic() + delay})
        try:
            with open(inst["log"], "ab") as log:
                log.write(("[sdv-agent %s] %s exited with code %d\n" % (now_iso(), inst["id"], code)).encode())
        except OSError:
            pass
        self.dirty = True

    def stop(self, inst_id: str, timeout: float) -> Dict[str, Any]:
        inst = self._get(inst_id)
        inst["want"] = "stopped"
        pid = inst.get("pid")
        if pid and procs.alive(pid, inst.get("startTicks")):
            if inst.get("stopArgv"):  # the app runs in a systemd service: systemd-run only waits for it
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    subprocess.run(inst["stopArgv"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, timeout=timeout)
            _signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self._exit_code(inst) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._exit_code(inst) is None:
                _signal_group(pid, signal.SIGKILL)
                while self._exit_code(inst) is None and time.monotonic() < deadline + 5:
                    time.sleep(0.05)
        self.children.pop(inst_id, None)
        inst.update({"pid": None, "status": "stopped", "stoppedAt": now_iso()})
        self.dirty = True
        return dict(inst)

    def _rotate(self) -> None:
        for inst in self.instances.values():
            logs.rotate_if_needed(inst["log"], int(inst.get("logMaxBytes") or logs.DEFAULT_MAX_BYTES),
                                  int(inst.get("logBackups") or logs.DEFAULT_BACKUPS))


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return
        with contextlib.suppress(OSError):  # not a group leader (adopted, or setsid failed)
            os.kill(pid, sig)


def _read_all(conn: socket.socket) -> bytes:
    chunks = []  # type: List[bytes]
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def supervise(layout: Layout, _args: Dict[str, Any]) -> None:
    """The ``supervise`` command: run the supervisor in this process until it is told to stop."""
    sys.exit(Supervisor(layout).serve())
