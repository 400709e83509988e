"""SDV Studio launcher: runs a Velocitas or plain Python app and serves its health endpoint.

Usage (from launch.json): ``python support/sdv_launcher.py app/<entryPoint>``. Stdlib only,
Python 3.8+: it runs on the device, in the app's own venv.

- GET /health on 127.0.0.1:$SDV_HEALTH_PORT answers from a daemon thread while the app runs: 200
  when healthy, 503 when not, with ``kuksa_connection``, ``app_running``, ``last_check`` and
  ``reason``. A KUKSA app (SDV_APP_FLAVOUR ``velocitas`` or ``kuksa``) is healthy only while a
  real call to its databroker answers, made the way its own client would make it;
- the support folder (the ``sdv`` compatibility shim, the generated ``vehicle`` model) goes on
  sys.path after the app's own folder, so the app's modules win;
- SIGTERM raises SystemExit in the main thread, so ``finally`` blocks and atexit handlers run;
- when the device agent collects metrics (SDV_METRICS_SOCKET), the KUKSA meter beside this file
  (``sdv_meter.py``) counts what the app's databroker clients do;
- a fresh event loop is set as soon as the app imports asyncio, as the playground's
  ``asyncio.get_event_loop()`` expects one;
- the databroker token and CA the deployment gave the app reach its kuksa-client or Velocitas
  client (``sdv_broker_access``, beside this file).

It imports as little as it can before the app runs: on a small board, asyncio and http.server
would cost a plain app several times its own start-up CPU.
"""

import importlib
import os
import signal
import socket
import sys
import threading
import time
from importlib.machinery import PathFinder

STARTED = time.monotonic()
_MAX_REQUEST = 8192
CHECK_TIMEOUT = 2.0  # seconds a databroker call may take; the agent's probe waits longer
CHECK_REUSE = 1.0  # probes this close together share one databroker call


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _grpc_target(address: str) -> str:
    """``host:port`` from ``grpc://host:port`` or ``host:port``."""
    return address.split("://", 1)[-1].rstrip("/")


def _refusal(exc: object, target: str) -> str:
    """Why a gRPC call to the databroker failed, in one line naming it."""
    code = getattr(exc, "code", None)
    details = getattr(exc, "details", None)
    name = code().name if callable(code) else type(exc).__name__
    text = (details() if callable(details) else str(exc)) or "no answer"
    if name in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
        return f"databroker {target} not reachable: {text}"
    return f"databroker {target} refused the call: {text} ({name})"


def _unmetered(factory):
    return getattr(factory, "__wrapped__", factory)


def _channel(grpc, target: str):
    """The channel the app's client opens: TLS with KUKSA_CA_FILE when the deployment gave one
    (sdv_broker_access hands the same CA and server name to the app's clients), else plain. Not
    through sdv_meter's wrappers: these checks are SDV Studio's calls, not the app's."""
    ca_file = os.getenv("KUKSA_CA_FILE")
    if not ca_file:
        return _unmetered(grpc.insecure_channel)(target)
    with open(ca_file, "rb") as f:
        credentials = grpc.ssl_channel_credentials(f.read())
    name = os.getenv("KUKSA_TLS_SERVER_NAME")
    options = [("grpc.ssl_target_name_override", name)] if name else None
    return _unmetered(grpc.secure_channel)(target, credentials, options=options)


def _ask_velocitas_broker() -> str:
    """The Velocitas SDK's own address and metadata for its databroker, and the API its client
    uses (sdv.databroker.v1): one GetMetadata call; "" when it answered, else why not."""
    import grpc
    from velocitas_sdk import config
    from velocitas_sdk.proto.broker_pb2 import GetMetadataRequest
    from velocitas_sdk.proto.broker_pb2_grpc import BrokerStub

    locator = config.middleware.service_locator
    target = _grpc_target(locator.get_service_location("vehicledatabroker"))
    with _channel(grpc, target) as channel:
        try:
            BrokerStub(channel).GetMetadata(GetMetadataRequest(names=["Vehicle.Speed"]), timeout=CHECK_TIMEOUT,
                                            metadata=locator.get_metadata("vehicledatabroker"))
        except grpc.RpcError as exc:
            return _refusal(exc, target)
    return ""


def _ask_kuksa_broker() -> str:
    """GetServerInfo at KUKSA_ENDPOINT over kuksa.val.v1, else v2 (what kuksa-client's VSSClient asks
    on connect, without its log lines); "" when it answered, else why not."""
    import grpc

    target = _grpc_target(os.getenv("KUKSA_ENDPOINT", "127.0.0.1:55555"))
    token = os.getenv("KUKSA_TOKEN")
    metadata = [("authorization", "Bearer " + token)] if token else None
    refused = f"databroker {target}: the app's kuksa-client has no kuksa.val API"
    with _channel(grpc, target) as channel:
        for api in ("v1", "v2"):
            try:
                val = importlib.import_module(f"kuksa.val.{api}.val_pb2")
                stub = importlib.import_module(f"kuksa.val.{api}.val_pb2_grpc").VALStub(channel)
            except ImportError:  # kuksa-client before 0.5 has no v2
                continue
            try:
                stub.GetServerInfo(val.GetServerInfoRequest(), timeout=CHECK_TIMEOUT, metadata=metadata)
                return ""
            except grpc.RpcError as exc:
                refused = _refusal(exc, target)
                if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                    break
    return refused


_BROKER_CHECKS = {"velocitas": _ask_velocitas_broker, "kuksa": _ask_kuksa_broker}


class _Health:
    """The last health check, shared by concurrent probes and redone at most every CHECK_REUSE s."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state = {}  # type: dict
        self.checked = -CHECK_REUSE

    def current(self) -> dict:
        with self.lock:
            if time.monotonic() - self.checked >= CHECK_REUSE:
                self.state = self._check()
                self.checked = time.monotonic()
            return self.state

    @staticmethod
    def _check() -> dict:
        running = threading.main_thread().is_alive()
        ask = _BROKER_CHECKS.get(os.getenv("SDV_APP_FLAVOUR", ""))
        if ask is None:  # not a KUKSA app: nothing to connect to
            connected, reason = None, ""
        else:
            try:
                reason = ask()
            except Exception as exc:  # no SDK, a bad address: the app cannot reach its broker either
                reason = f"databroker check failed: {type(exc).__name__}: {exc}"
            connected = not reason
        if not running:
            reason = reason or "the app's main thread has ended"
        return {"kuksa_connection": connected, "app_running": running, "last_check": _now_iso(),
                "reason": reason}


_HEALTH = _Health()


def _health_reply(request: bytes) -> bytes:
    line = request.split(b"\r\n", 1)[0].split(b" ")
    if len(line) < 2 or line[0] != b"GET" or line[1].split(b"?", 1)[0] != b"/health":
        return b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    import json  # only once something asks

    state = _HEALTH.current()
    healthy = state["app_running"] and state["kuksa_connection"] is not False
    body = json.dumps(dict(
        state, status="ok" if healthy else "degraded", app=os.getenv("APP_NAME", ""),
        version=os.getenv("APP_VERSION", ""), uptime=round(time.monotonic() - STARTED, 1),
    )).encode()
    head = "HTTP/1.0 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
    return (head % ("200 OK" if healthy else "503 Service Unavailable", len(body))).encode() + body


def _answer(conn: socket.socket) -> None:
    with conn:
        try:
            conn.settimeout(2.0)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < _MAX_REQUEST:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            conn.sendall(_health_reply(request))
        except OSError:
            pass  # the prober gave up; the next probe gets a fresh connection


def _serve(server: socket.socket) -> None:
    while True:
        conn, _ = server.accept()
        threading.Thread(target=_answer, args=(conn,), daemon=True).start()


def serve_health() -> None:
    port = int(os.getenv("SDV_HEALTH_PORT", "0") or 0)
    if not port:
        return
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)
    threading.Thread(target=_serve, args=(server,), name="sdv-health", daemon=True).start()


class _LoopOnAsyncioImport:
    """A meta-path finder that hands asyncio's own spec back with a loader that, once asyncio has
    loaded, sets a fresh event loop: apps that never import asyncio never pay for it."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if name != "asyncio":
            return None
        sys.meta_path.remove(self)
        spec = PathFinder.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_set_loop(module: object) -> None:
            exec_module(module)
            module.set_event_loop(module.new_event_loop())  # type: ignore[attr-defined]

        spec.loader.exec_module = exec_and_set_loop  # type: ignore[method-assign]
        return spec


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def run_as_main(path: str) -> None:
    """What ``runpy.run_path(path, run_name="__main__")`` does for a source file, without runpy's
    imports (pkgutil, typing, re): the code runs as a fresh ``__main__`` module."""
    with open(path, "rb") as f:
        code = compile(f.read(), path, "exec")
    launcher = sys.modules["__main__"]  # kept alive while the app runs, as runpy keeps it
    module = type(sys)("__main__")
    module.__dict__.update(__file__=path, __cached__=None, __loader__=None, __package__=None, __spec__=None)
    sys.modules["__main__"] = module
    try:
        exec(code, module.__dict__)
    finally:
        sys.modules["__main__"] = launcher


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: sdv_launcher.py ENTRY_POINT [ARGS...]")
    entry = os.path.abspath(sys.argv[1])
    support = os.path.dirname(os.path.abspath(__file__))
    sys.argv = [entry, *sys.argv[2:]]
    sys.path[0:1] = [os.path.dirname(entry), support]
    signal.signal(signal.SIGTERM, _terminate)
    import sdv_broker_access  # from the support folder, now on sys.path

    sdv_broker_access.install()
    if os.getenv("SDV_METRICS_SOCKET"):  # before the health thread, whose first probe imports grpc
        import sdv_meter  # in the support folder, beside this file

        sdv_meter.install()
    serve_health()
    if "asyncio" in sys.modules:
        sys.modules["asyncio"].set_event_loop(sys.modules["asyncio"].new_event_loop())
    else:
        sys.meta_path.insert(0, _LoopOnAsyncioImport())
    print(f"sdv-launcher: starting {os.path.relpath(entry)}", file=sys.stderr, flush=True)
    run_as_main(entry)


if __name__ == "__main__":
    main()
