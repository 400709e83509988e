"""Limits that keep one gRPC client from starving the others.

The thread-pool server gives a call a worker thread from the moment it starts: a unary call
waits on it for its request message, a stream holds it while it is open. Unlimited, a client
that opens streams, or starts calls and never sends their request, takes every worker. So:

- streams (subscriptions, provider streams) run on a pool of their own, so however many are
  open, unary calls (get, set, publish) still find a worker;
- one connection holds at most ``streams_per_connection`` streams and the server ``max_streams``;
  a stream beyond is refused with RESOURCE_EXHAUSTED at once, not queued behind the others;
- a call's request must arrive within ``request_wait`` seconds. One that has not come after
  ``stall_after`` (a request sent at all arrives within a round trip) makes the call stalled:
  a connection with ``stalled_per_connection`` stalled calls has further stalled ones cancelled
  and new calls refused until those end, and the server cancels the oldest stalled calls beyond
  ``max_stalled``. Calls that merely arrive together are never refused for it;
- HTTP/2 caps the calls in flight on one connection; keepalive pings find peers that vanished,
  whose streams would hold their workers; connections idle for long are closed (grpc clients
  reconnect on their next call).

A connection is what grpc names a peer, address and port. The clients of a loopback broker all
share one address, so fairness is per connection, not per host (a grpc client process keeps one
connection per server for all its channels alike). Connection age is not limited: ending old
connections would cut live subscriptions, which kuksa-client does not renew.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    from typing import TypeAlias  # novermin: for the type checker only

Code = grpc.StatusCode
# A generated add_*_to_server function: (servicer, server) -> None.
AddToServer: TypeAlias = "Callable[[Any, Any], None]"  # quoted for Python 3.8, as store.py's


@dataclass(frozen=True)
class Limits:
    # Enough that one connection's calls in flight cannot take them all; created only when needed.
    unary_workers: int = 128
    max_streams: int = 500  # each open stream holds a thread, about 55 kB
    streams_per_connection: int = 50
    calls_per_connection: int = 100  # HTTP/2 concurrent streams: calls in flight on one connection
    request_wait: float = 10.0  # seconds for a call's request message to arrive
    stall_after: float = 1.0  # seconds without its request that make a call stalled
    stalled_per_connection: int = 4
    max_stalled: int = 16
    max_message_bytes: int = 4 * 1024 * 1024  # as the real databroker (tonic's default)
    keepalive_seconds: int = 60  # ping a connection this often; no answer in 20 s ends it
    idle_seconds: int = 600  # close a connection with no call for this long

    def server_options(self) -> list[tuple[str, int]]:
        """grpc channel arguments for the server (enforced in grpc's core, no cost per call)."""
        return [
            ("grpc.so_reuseport", 0),  # a second broker on a taken port must fail, not share it
            ("grpc.max_concurrent_streams", self.calls_per_connection),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.keepalive_time_ms", self.keepalive_seconds * 1000),
            ("grpc.keepalive_timeout_ms", 20_000),
            # Keep pinging a connection whose only stream is a quiet subscription.
            ("grpc.http2.max_pings_without_data", 0),
            ("grpc.max_connection_idle_ms", self.idle_seconds * 1000),
            ("grpc.server_handshake_timeout_ms", 20_000),
        ]


class RequestWaits:
    """The calls waiting for their request message, and the watchdog that ends stalled ones."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._waiting: dict[Any, tuple[float, str]] = {}  # context -> (start, peer), oldest first
        self._stalled: dict[Any, str] = {}  # context -> peer, oldest first
        self._stalled_per_peer: dict[str, int] = {}
        self._stopped = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="grpc-request-wait", daemon=True)

    def start(self) -> None:
        self._watchdog.start()

    def stop(self) -> None:
        self._stopped.set()

    def request(self, method: str, requests: Iterator[Any], context: Any) -> Any:
        """The call's one request message, waited for within the limits."""
        peer = context.peer()
        with self._lock:
            stalled = self._stalled_per_peer.get(peer, 0)
            if stalled < self.limits.stalled_per_connection:
                self._waiting[context] = (time.monotonic(), peer)
        if stalled >= self.limits.stalled_per_connection:
            context.abort(Code.RESOURCE_EXHAUSTED, f"{stalled} calls on this connection have waited over "
                                                   f"{self.limits.stall_after:g} s for their request message")
        try:
            return next(requests)  # a cancelled wait raises grpc's own RpcError, which grpc answers
        except StopIteration:
            context.abort(Code.UNIMPLEMENTED, f'"{method}" requires exactly one request message.')
        finally:
            with self._lock:
                self._forget(context)

    def _forget(self, context: Any) -> None:
        """Under the lock: context waits no more."""
        self._waiting.pop(context, None)
        peer = self._stalled.pop(context, None)
        if peer is not None:
            left = self._stalled_per_peer[peer] - 1
            if left:
                self._stalled_per_peer[peer] = left
            else:
                del self._stalled_per_peer[peer]

    def _watch(self) -> None:
        tick = min(0.25, self.limits.stall_after / 4)
        while not self._stopped.wait(tick):
            now = time.monotonic()
            with self._lock:
                ended = self._overdue(now)
                for context in ended:
                    self._forget(context)
            for context in ended:
                context.cancel()

    def _overdue(self, now: float) -> list[Any]:
        """Under the lock: mark the calls that stalled; the ones to cancel."""
        ended = []
        for context, (started, peer) in self._waiting.items():  # oldest first
            waited = now - started
            if waited < self.limits.stall_after:
                break  # and so have all that started later
            if waited >= self.limits.request_wait:
                ended.append(context)
            elif context not in self._stalled:
                stalled = self._stalled_per_peer.get(peer, 0)
                if stalled >= self.limits.stalled_per_connection:
                    ended.append(context)
                else:
                    self._stalled[context] = peer
                    self._stalled_per_peer[peer] = stalled + 1
        excess = len(self._stalled) - self.limits.max_stalled
        if excess > 0:
            ended.extend(context for context in list(self._stalled)[:excess] if context not in ended)
        return ended


class _StreamBehavior:
    """A streaming method's behaviour, run on the stream pool (grpcio's experimental_thread_pool)."""

    def __init__(self, behavior: Callable[[Any, Any], Iterator[Any]], pool: ThreadPoolExecutor) -> None:
        self._behavior = behavior
        self.experimental_thread_pool = pool

    def __call__(self, request: Any, context: Any) -> Iterator[Any]:
        return self._behavior(request, context)


class _Recorder:
    """Stands in for the server in a generated add_*_to_server: keeps what it registers."""

    def __init__(self) -> None:
        self.services: list[tuple[str, dict[str, grpc.RpcMethodHandler]]] = []

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        """The same handlers come to add_registered_method_handlers too."""

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.services.append((service, handlers))


class Guard:
    """Applies Limits to the services registered through add_service; start() before serving."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.waits = RequestWaits(limits)
        self.unary_pool = ThreadPoolExecutor(limits.unary_workers, thread_name_prefix="grpc")
        # Room beyond max_streams for the calls that are refused or still wait for their request.
        self.stream_pool = ThreadPoolExecutor(
            limits.max_streams + limits.calls_per_connection, thread_name_prefix="grpc-stream")
        self._lock = threading.Lock()
        self._streams_per_peer: dict[str, int] = {}
        self._streams = 0

    def start(self) -> None:
        self.waits.start()

    def stop(self) -> None:
        self.waits.stop()
        self.stream_pool.shutdown(wait=False)
        self.unary_pool.shutdown(wait=False)

    def add_service(self, server: grpc.Server, add_to_server: AddToServer, servicer: Any) -> None:
        recorder = _Recorder()
        add_to_server(servicer, recorder)
        for service, handlers in recorder.services:
            guarded = {name: self._guarded(f"/{service}/{name}", handler) for name, handler in handlers.items()}
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, guarded),))
            server.add_registered_method_handlers(service, guarded)

    def _guarded(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """The same method, taking its request as a stream so the wait for it can be bounded."""
        decode, encode = handler.request_deserializer, handler.response_serializer
        if handler.unary_unary is not None:
            unary = handler.unary_unary

            def unary_call(requests: Iterator[Any], context: Any) -> Any:
                return unary(self.waits.request(method, requests, context), context)

            return grpc.stream_unary_rpc_method_handler(unary_call, decode, encode)
        if handler.unary_stream is not None:
            subscribe = handler.unary_stream

            def subscription(requests: Iterator[Any], context: Any) -> Iterator[Any]:
                return self._admitted(subscribe(self.waits.request(method, requests, context), context), context)

            return grpc.stream_stream_rpc_method_handler(
                _StreamBehavior(subscription, self.stream_pool), decode, encode)
        if handler.stream_stream is not None:
            stream = handler.stream_stream

            def provider(requests: Iterator[Any], context: Any) -> Iterator[Any]:
                return self._admitted(stream(requests, context), context)

            return grpc.stream_stream_rpc_method_handler(_StreamBehavior(provider, self.stream_pool), decode, encode)
        upload = handler.stream_unary

        def uploading(requests: Iterator[Any], context: Any) -> Any:
            with self._stream_slot(context):
                return upload(requests, context)

        return grpc.stream_unary_rpc_method_handler(_StreamBehavior(uploading, self.stream_pool), decode, encode)

    def _admitted(self, responses: Iterator[Any], context: Any) -> Iterator[Any]:
        with self._stream_slot(context):
            yield from responses

    @contextmanager
    def _stream_slot(self, context: Any) -> Iterator[None]:
        """Held while a stream is open; refused with RESOURCE_EXHAUSTED beyond the limits."""
        peer = context.peer()
        with self._lock:
            held = self._streams_per_peer.get(peer, 0)
            refusal = None
            if held >= self.limits.streams_per_connection:
                refusal = f"{held} streams are open on this connection, the most one connection may have"
            elif self._streams >= self.limits.max_streams:
                refusal = f"{self._streams} streams are open, the most this broker serves at once"
            else:
                self._streams_per_peer[peer] = held + 1
                self._streams += 1
        if refusal is not None:
            context.abort(Code.RESOURCE_EXHAUSTED, refusal)
        try:
            yield
        finally:
            with self._lock:
                self._streams -= 1
                left = self._streams_per_peer[peer] - 1
                if left:
                    self._streams_per_peer[peer] = left
                else:
                    del self._streams_per_peer[peer]
