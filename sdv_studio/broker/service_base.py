"""What the three gRPC services share: the database, the auth check, request bounds, enum names."""

from __future__ import annotations

from collections.abc import Sized

import grpc

from sdv_studio import __version__
from sdv_studio.broker import auth, values
from sdv_studio.broker.store import Database, Subscription
from sdv_studio.broker.vss import Entry

SERVER_NAME = "sdv-studio-databroker"
SERVER_VERSION = __version__
MAX_PATH_LENGTH = 1000  # as the real databroker
# Paths, ids or updates named in one request, and signals one request selects: several times the
# largest VSS catalogue, and few enough that one request holds the interpreter for only ~0.1 s.
MAX_REQUEST_ITEMS = 10_000


class Service:
    def __init__(self, db: Database, verifier: auth.JwtVerifier | None) -> None:
        self.db = db
        self.verifier = verifier

    def permissions(self, context: grpc.ServicerContext) -> auth.Permissions:
        if self.verifier is None:
            return auth.ALLOW_ALL
        try:
            return self.verifier.permissions(context.invocation_metadata())
        except auth.AuthError as exc:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            raise  # abort raises; this line only tells type checkers so

    def limit_items(self, context: grpc.ServicerContext, field: str, items: Sized) -> None:
        """INVALID_ARGUMENT when a request names more than MAX_REQUEST_ITEMS in field."""
        if len(items) > MAX_REQUEST_ITEMS:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"{field}: {len(items)} in one request, at most {MAX_REQUEST_ITEMS}")

    def subscribe(self, context: grpc.ServicerContext, keys: list[tuple[int, str]]) -> Subscription:
        """A subscription that ends (next() gives None) when the RPC ends, e.g. the client cancels."""
        subscription = self.db.subscribe(keys)
        if not context.add_callback(lambda: self.db.unsubscribe(subscription)):
            self.db.unsubscribe(subscription)  # the RPC is already over
        return subscription


def datatype_name(entry: Entry, sdv: bool = False) -> str:
    """The DataType enum member's name for the entry in kuksa.val (or sdv.databroker) spelling."""
    base = values.base_type(entry.datatype).upper()
    if base == "BOOLEAN" and sdv:
        base = "BOOL"
    name = f"{base}_ARRAY" if values.is_array(entry.datatype) else base
    return name if sdv else f"DATA_TYPE_{name}"


def entry_type_name(entry: Entry) -> str:
    return f"ENTRY_TYPE_{entry.entry_type.upper()}"
