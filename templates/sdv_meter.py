"""SDV Studio's KUKSA meter: counts what an app's databroker clients do, without touching its code.

The launcher (and the kuksa-client template) call ``install()`` before the app runs, when the
device agent gave the app ``SDV_METRICS_SOCKET``. Stdlib only, Python 3.8+; gRPC is used only
once the app imports it.

- Every gRPC channel the app opens gets an interceptor: kuksa-client (sync and aio) and the
  Velocitas SDK all dial through ``grpc.insecure_channel``/``secure_channel`` or ``grpc.aio``'s.
- Counted: calls, failed calls (any status but OK and CANCELLED), signal updates received in
  subscriptions and values written (a message's ``updates``/``entries``/``datapoints``/``fields``
  count one each), and each unary call's latency in a log-scale histogram (bucket i: at most
  0.05 ms * 2 ** (i / 4)).
- Once a second, when something changed (and every 10 s regardless), a daemon thread sends the
  running totals as one JSON datagram to the agent, which keeps the history (sampler.py there).
"""

from __future__ import annotations  # the annotations below, on Python 3.8

import importlib
import json
import math
import os
import socket
import sys
import threading
import time
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs an app's start-up CPU for nothing at run time (annotations are strings)
    from typing import AsyncIterator, Callable, Dict, List, Sequence, Type

BASE_MS = 0.05
PER_OCTAVE = 4
LAST_BUCKET = 80  # about 1.6 minutes: anything slower is counted here
PUSH_EVERY = 1.0
RESEND_EVERY = 10.0
# Methods whose request writes signals, and whose responses stream signal updates (kuksa.val.v1/v2,
# sdv.databroker.v1 and its collector).
WRITES = frozenset(("Set", "SetDatapoints", "UpdateDatapoints", "PublishValue", "Actuate", "BatchActuate"))
SUBSCRIPTIONS = frozenset(("Subscribe", "SubscribeById"))
_SIGNAL_FIELDS = ("updates", "entries", "datapoints", "actuate_requests", "fields")


class Meter:
    """Running totals; updated from the app's threads and its event loop, read by the push thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.errors = 0
        self.received = 0
        self.sent = 0
        self.latency: Dict[int, int] = {}
        self.last_error = ""

    def call(self, seconds: float, failure: str = "") -> None:
        """A unary call that took ``seconds``; ``failure`` says why it failed, if it did."""
        ms = seconds * 1000.0
        bucket = 0 if ms <= BASE_MS else min(LAST_BUCKET, math.ceil(PER_OCTAVE * math.log2(ms / BASE_MS)))
        with self.lock:
            self.calls += 1
            self.latency[bucket] = self.latency.get(bucket, 0) + 1
        if failure:
            self.failed(failure)

    def failed(self, why: str) -> None:
        with self.lock:
            self.errors += 1
            self.last_error = why[:300]

    def wrote(self, request: object) -> None:
        n = signals_in(request)
        with self.lock:
            self.sent += n

    def got(self, response: object) -> None:
        n = signals_in(response)
        with self.lock:
            self.received += n

    def report(self) -> Dict[str, object]:
        with self.lock:
            return {"pid": os.getpid(), "calls": self.calls, "errors": self.errors, "received": self.received,
                    "sent": self.sent, "lastError": self.last_error or None,
                    "latency": {"base": BASE_MS, "perOctave": PER_OCTAVE,
                                "counts": {str(b): n for b, n in self.latency.items()}}}


METER = Meter()


def rpc_failure(error: BaseException) -> str:
    """Why a call failed, ``CODE: details``; "" when the app cancelled it itself (no fault of the
    databroker's)."""
    code = getattr(error, "code", None)
    status = getattr(code() if callable(code) else None, "name", type(error).__name__)
    if status == "CANCELLED":
        return ""
    details = getattr(error, "details", None)
    return f"{status}: {details() if callable(details) else error}"


def refusal(response: object) -> str:
    """What a successful call's answer refused: kuksa.val.v1 answers a bad path with ``error`` or
    ``errors`` in an OK response, sdv.databroker.v1 with ``errors``."""
    errors = getattr(response, "errors", None)
    try:
        if errors:
            first = next(iter(errors.items())) if hasattr(errors, "items") else errors[0]  # a map or a list
            return "refused: " + " ".join(str(first).split())
        error = getattr(response, "error", None)
        if error is not None and response.HasField("error") and getattr(error, "code", 0):  # type: ignore[attr-defined]
            return f"refused: {error.code} {getattr(error, 'message', '') or getattr(error, 'reason', '')}"
    except (AttributeError, TypeError, ValueError, StopIteration):
        pass
    return ""


def signals_in(message: object) -> int:
    """How many signals a request or response carries: the length of its list or map of them."""
    for name in _SIGNAL_FIELDS:
        try:
            return len(getattr(message, name))
        except (AttributeError, TypeError):
            continue
    return 1


def _method(details: object) -> str:
    method = getattr(details, "method", "") or ""
    if isinstance(method, bytes):
        method = method.decode("ascii", "replace")
    return method.rsplit("/", 1)[-1]


# -- interceptors ----------------------------------------------------------------------------------
def _sync_interceptors(grpc: ModuleType) -> List[object]:
    class Unary(grpc.UnaryUnaryClientInterceptor):  # type: ignore[name-defined]
        def intercept_unary_unary(self, continuation: Callable, details: object, request: object) -> object:
            started = time.perf_counter()
            if _method(details) in WRITES:
                METER.wrote(request)
            outcome = continuation(details, request)  # a finished call, or a future's

            def done(future: object) -> None:
                error = future.exception()  # type: ignore[attr-defined]
                why = rpc_failure(error) if error is not None else refusal(future.result())  # type: ignore[attr-defined]
                METER.call(time.perf_counter() - started, why)

            outcome.add_done_callback(done)
            return outcome

    class Stream(grpc.UnaryStreamClientInterceptor):  # type: ignore[name-defined]
        def intercept_unary_stream(self, continuation: Callable, details: object, request: object) -> object:
            return _CountedStream(continuation(details, request), _method(details) in SUBSCRIPTIONS, grpc.RpcError)

    return [Unary(), Stream()]


class _CountedStream:
    """A sync response stream that counts what it yields and how it fails; the call otherwise."""

    def __init__(self, call: object, updates: bool, rpc_error: Type[BaseException]) -> None:
        self._call = call
        self._updates = updates
        self._rpc_error = rpc_error

    def __iter__(self) -> _CountedStream:
        return self

    def __next__(self) -> object:
        try:
            response = next(self._call)  # type: ignore[call-overload]
        except self._rpc_error as exc:
            why = rpc_failure(exc)
            if why:
                METER.failed(why)
            raise
        if self._updates:
            METER.got(response)
        return response

    def __getattr__(self, name: str) -> object:
        return getattr(self._call, name)


def _aio_interceptors(aio: ModuleType) -> List[object]:
    class Unary(aio.UnaryUnaryClientInterceptor):  # type: ignore[name-defined]
        async def intercept_unary_unary(self, continuation: Callable, details: object, request: object) -> object:
            started = time.perf_counter()
            if _method(details) in WRITES:
                METER.wrote(request)
            call = await continuation(details, request)
            try:
                response = await call
            except aio.AioRpcError as exc:
                METER.call(time.perf_counter() - started, rpc_failure(exc))
            else:
                METER.call(time.perf_counter() - started, refusal(response))
            return call  # awaited again by the app: the same answer, or the same error

    class Stream(aio.UnaryStreamClientInterceptor):  # type: ignore[name-defined]
        async def intercept_unary_stream(self, continuation: Callable, details: object, request: object) -> object:
            call = await continuation(details, request)
            if _method(details) not in SUBSCRIPTIONS:
                return call
            return _counted_updates(call, aio.AioRpcError)

    return [Unary(), Stream()]


async def _counted_updates(call: AsyncIterator[object], rpc_error: Type[BaseException]) -> AsyncIterator[object]:
    try:
        async for response in call:
            METER.got(response)
            yield response
    except rpc_error as exc:
        why = rpc_failure(exc)
        if why:
            METER.failed(why)
        raise


# -- hooking gRPC ------------------------------------------------------------------------------------
def _patch_sync(grpc: ModuleType) -> None:
    interceptors = _sync_interceptors(grpc)
    for name in ("insecure_channel", "secure_channel"):
        original = getattr(grpc, name)

        def opened(*args: object, __original: Callable = original, **kwargs: object) -> object:
            return grpc.intercept_channel(__original(*args, **kwargs), *interceptors)

        opened.__wrapped__ = original  # type: ignore[attr-defined]  # for SDV Studio's own, uncounted calls
        setattr(grpc, name, opened)


def _patch_aio(aio: ModuleType) -> None:
    interceptors = _aio_interceptors(aio)
    # Where each takes ``interceptors`` positionally: given that way, the channel is left alone.
    for name, slot in (("insecure_channel", 3), ("secure_channel", 4)):
        original = getattr(aio, name)

        def opened(*args: object, __original: Callable = original, __slot: int = slot, **kwargs: object) -> object:
            if len(args) <= __slot:
                given: Sequence[object] = kwargs.get("interceptors") or []  # type: ignore[assignment]
                kwargs["interceptors"] = [*given, *interceptors]
            return __original(*args, **kwargs)

        opened.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(aio, name, opened)


class _PatchOnImport:
    """A meta-path finder that, once ``grpc`` (and ``grpc.aio``) has loaded, wraps its channel
    factories: apps that never use gRPC never import it."""

    def __init__(self) -> None:
        self.pending: Dict[str, Callable[[ModuleType], None]] = {"grpc": _patch_sync, "grpc.aio": _patch_aio}

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        patch = self.pending.pop(name, None)
        if patch is None:
            return None
        if not self.pending and self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


# -- reporting -----------------------------------------------------------------------------------------
def _push(path: str) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setblocking(False)
    last, sent_at = None, 0.0
    while True:
        time.sleep(PUSH_EVERY)
        report = METER.report()
        if report == last and time.monotonic() - sent_at < RESEND_EVERY:
            continue
        try:
            sock.sendto(json.dumps(report, separators=(",", ":")).encode(), path)
        except OSError:
            continue  # the agent is restarting, or its queue is full: the totals go next time
        last, sent_at = report, time.monotonic()


def install() -> None:
    path = os.getenv("SDV_METRICS_SOCKET", "")
    if not path:
        return
    hook = _PatchOnImport()
    for name in list(hook.pending):
        if name in sys.modules:  # importing again waits for another thread still loading it
            hook.pending.pop(name)(importlib.import_module(name))
    if hook.pending:
        sys.meta_path.insert(0, hook)
    threading.Thread(target=_push, args=(path,), name="sdv-meter", daemon=True).start()
