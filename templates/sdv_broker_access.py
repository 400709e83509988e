"""SDV Studio: hands the databroker token and CA the deployment gave the app to the app's own client.

SDV Studio passes them as ``KUKSA_TOKEN`` (the JWT), ``KUKSA_CA_FILE`` (PEM of the CA the
databroker's TLS certificate chains to) and ``KUKSA_TLS_SERVER_NAME`` (the name that certificate
carries, when the address the app dials is another). Neither client reads them by itself, so the
launcher calls ``install()`` before the app runs, and then, as each client's module loads:

- kuksa-client: ``VSSClient`` (sync and aio) takes them as its defaults for ``token``,
  ``root_certificates`` and ``tls_server_name``; what the app passes itself still wins;
- the Velocitas SDK: its service locator gives the token as the metadata its databroker client
  sends with every call, and that client's channel is opened with TLS when a CA is given.

Stdlib only, Python 3.8+, and nothing is imported unless one of the variables is set.
"""

from __future__ import annotations  # the annotations below, on Python 3.8

import os
import sys
from importlib.machinery import PathFinder

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time the app would pay
    from collections.abc import Callable, Sequence
    from typing import Any


def _token() -> str | None:
    return os.getenv("KUKSA_TOKEN") or None


def _ca_file() -> str | None:
    return os.getenv("KUKSA_CA_FILE") or None


def _server_name() -> str | None:
    return os.getenv("KUKSA_TLS_SERVER_NAME") or None


def _patch_kuksa_client(module: Any) -> None:
    base = getattr(module, "BaseVSSClient", None)
    if base is None:
        return
    import inspect
    from pathlib import Path

    original = base.__init__
    signature = inspect.signature(original)
    ca = _ca_file()
    defaults = {"token": _token(), "root_certificates": Path(ca) if ca else None,
                "tls_server_name": _server_name()}
    defaults = {k: v for k, v in defaults.items() if v is not None and k in signature.parameters}

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        for name, value in defaults.items():
            if bound.arguments.get(name) is None:
                bound.arguments[name] = value
        original(*bound.args, **bound.kwargs)

    base.__init__ = __init__


def _patch_velocitas_locator(module: Any) -> None:
    locator = getattr(module, "NativeServiceLocator", None)
    token = _token()
    if locator is None or not token:
        return
    original = locator.get_metadata

    def get_metadata(self: Any, service_name: str | None = None) -> Any:
        if service_name == "vehicledatabroker":
            return (("authorization", "Bearer " + token),)
        return original(self, service_name)

    locator.get_metadata = get_metadata


class _TlsGrpc:
    """Stands in for the ``grpc`` module inside the Velocitas SDK's databroker client, whose one
    ``grpc.aio.insecure_channel`` call then opens a TLS channel; everything else is grpc's own."""

    def __init__(self, grpc: Any, ca_pem: bytes, server_name: str | None, aio: bool = False) -> None:
        self._real = grpc.aio if aio else grpc
        self._grpc, self._ca_pem, self._server_name = grpc, ca_pem, server_name
        if not aio:
            self.aio = _TlsGrpc(grpc, ca_pem, server_name, aio=True)

    def insecure_channel(self, target: str, options: Sequence[Any] | None = None, *args: Any,
                         **kwargs: Any) -> Any:
        extra = [("grpc.ssl_target_name_override", self._server_name)] if self._server_name else []
        credentials = self._grpc.ssl_channel_credentials(self._ca_pem)
        return self._real.secure_channel(target, credentials, list(options or []) + extra, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _patch_velocitas_client(module: Any) -> None:
    ca = _ca_file()
    if ca and hasattr(module, "grpc"):
        with open(ca, "rb") as f:
            module.grpc = _TlsGrpc(module.grpc, f.read(), _server_name())


_PATCHES: dict[str, Callable[[Any], None]] = {
    "kuksa_client.grpc": _patch_kuksa_client,
    "velocitas_sdk.native.locator": _patch_velocitas_locator,
    "velocitas_sdk.vdb.client": _patch_velocitas_client,
}


class _PatchOnImport:
    """A meta-path finder that hands each patched module's own spec back with a loader that, once
    the module has run, applies its patch."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Patch the clients as they load, when the deployment gave the app a token or a CA."""
    if _token() or _ca_file():
        sys.meta_path.insert(0, _PatchOnImport())
