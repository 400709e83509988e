"""Reading signals' current values from the device's databroker, for an idle condition.

The agent itself is stdlib only, and gRPC is no small protocol to hand-roll (HTTP/2, HPACK). So the
staged-release watcher runs under the Python of the venv SDV Studio installs on every device that
stages on a condition: its databroker bundle (core/device_wheels/broker_bundle.py), which carries
grpcio and the generated KUKSA stubs. They are imported here by name, at run time, only in that
process: every other agent call still runs on the device's bare python3.

Asks kuksa.val.v2 ``GetValue`` first and falls back to kuksa.val.v1 ``Get`` (what an older KUKSA
databroker serves), with the token and CA the workstation gave, as the app's own client would.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Optional

TIMEOUT = 5.0
_STUBS = "sdv_studio.broker.proto.kuksa.val.%s.%s"


class ReadError(Exception):
    """The databroker could not be asked, or refused: the message says which and why."""


class SignalReader:
    def __init__(self, broker: str, token: Optional[str] = None, ca_file: Optional[str] = None,
                 server_name: Optional[str] = None) -> None:
        try:
            self._grpc = importlib.import_module("grpc")
        except ImportError as exc:
            raise ReadError("this Python has no grpc (the watcher runs in the databroker bundle's venv): %s"
                            % exc) from exc
        self.broker = broker
        self._metadata = [("authorization", "Bearer " + token)] if token else None
        if ca_file:
            with open(ca_file, "rb") as f:
                credentials = self._grpc.ssl_channel_credentials(f.read())
            options = [("grpc.ssl_target_name_override", server_name)] if server_name else None
            self._channel = self._grpc.secure_channel(broker, credentials, options=options)
        else:
            self._channel = self._grpc.insecure_channel(broker)
        self._api = "v2"

    def close(self) -> None:
        self._channel.close()

    def read(self, paths: List[str]) -> Dict[str, Any]:
        """``{path: current value}`` (None: the signal has no value yet)."""
        try:
            return self._read_v2(paths) if self._api == "v2" else self._read_v1(paths)
        except self._grpc.RpcError as exc:
            if self._api == "v2" and exc.code() == self._grpc.StatusCode.UNIMPLEMENTED:
                self._api = "v1"
                return self.read(paths)
            raise ReadError(self._refusal(exc)) from exc

    def _refusal(self, exc: Any) -> str:
        code = exc.code()
        text = exc.details() or "no answer"
        if code in (self._grpc.StatusCode.UNAVAILABLE, self._grpc.StatusCode.DEADLINE_EXCEEDED):
            return "databroker %s not reachable: %s" % (self.broker, text)
        return "databroker %s refused: %s (%s)" % (self.broker, text, code.name)

    def _read_v2(self, paths: List[str]) -> Dict[str, Any]:
        val = importlib.import_module(_STUBS % ("v2", "val_pb2"))
        types = importlib.import_module(_STUBS % ("v2", "types_pb2"))
        stub = importlib.import_module(_STUBS % ("v2", "val_pb2_grpc")).VALStub(self._channel)
        values = {}
        for path in paths:
            answer = stub.GetValue(val.GetValueRequest(signal_id=types.SignalID(path=path)), timeout=TIMEOUT,
                                   metadata=self._metadata)
            point = answer.data_point
            values[path] = _typed(point.value, "typed_value") if point.HasField("value") else None
        return values

    def _read_v1(self, paths: List[str]) -> Dict[str, Any]:
        val = importlib.import_module(_STUBS % ("v1", "val_pb2"))
        types = importlib.import_module(_STUBS % ("v1", "types_pb2"))
        stub = importlib.import_module(_STUBS % ("v1", "val_pb2_grpc")).VALStub(self._channel)
        request = val.GetRequest(entries=[val.EntryRequest(path=p, view=types.VIEW_CURRENT_VALUE,
                                                           fields=[types.FIELD_VALUE]) for p in paths])
        answer = stub.Get(request, timeout=TIMEOUT, metadata=self._metadata)
        if answer.errors:
            first = answer.errors[0]
            raise ReadError("databroker %s refused %s: %s" % (self.broker, first.path, first.error.message
                                                                or first.error.reason))
        values = dict.fromkeys(paths)  # type: Dict[str, Any]
        for entry in answer.entries:
            values[entry.path] = _typed(entry.value, "value") if entry.HasField("value") else None
        return values


def _typed(message: Any, oneof: str) -> Any:
    """A datapoint's value as Python (an array as a list)."""
    which = message.WhichOneof(oneof)
    if which is None:
        return None
    value = getattr(message, which)
    return list(value.values) if which.endswith("_array") else value
