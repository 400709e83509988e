"""``sdv-studio serve``: the local REST API (sdv_studio.api) until SIGINT/SIGTERM.

Loopback only unless --allow-remote, and then only over TLS: the API deploys code to devices.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sdv_studio.cli.device_options import connection_defaults
from sdv_studio.core.defaults import API_PORT, DEVICE_TIMEOUT
from sdv_studio.core.errors import InvalidInput, OperationFailed
from sdv_studio.paths import user_path

if TYPE_CHECKING:  # the API's dependencies load only when it runs: `sdv-studio --help` stays fast
    from sdv_studio.api.server import Tls

MIN_TOKEN = 16
TOKEN_FILE_MAX = 4096


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve", help="serve the local REST API",
        description="Serve the deployment API (OpenAPI at /api/openapi.json). Every request needs "
        "'Authorization: Bearer <token>': --token-file or --token, else a token generated once and kept in the "
        "config folder. "
        "A browser's WebSocket may offer it as the subprotocols 'bearer, <token>' instead.")
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=API_PORT, help=f"port (default {API_PORT}; 0 picks a free one)")
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--token", help=f"the bearer token clients must send (at least {MIN_TOKEN} characters; "
                       "visible to other users in the process list: prefer --token-file)")
    given.add_argument("--token-file", metavar="FILE", help="read the bearer token from FILE (its first line)")
    parser.add_argument("--user", "-u", help="SSH login user for devices (default: the device's saved user)")
    parser.add_argument("--identity", "-i", metavar="KEYFILE", help="SSH private key file")
    parser.add_argument("--accept-new-host-keys", action="store_true",
                        help="trust a device's host key on first use; a changed key is always refused")
    parser.add_argument("--timeout", type=float, default=DEVICE_TIMEOUT, metavar="S", help="per-device time limit")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --address (needs --tls-cert and --tls-private-key)")
    parser.add_argument("--tls-cert", metavar="PEM", help="TLS certificate chain")
    parser.add_argument("--tls-private-key", metavar="PEM", help="TLS private key")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="a web page origin that may call the API from a browser, e.g. https://digital.auto "
                        "(repeatable; '*' for any). Its preflight requests need no token; its requests do")
    parser.set_defaults(handler=run)


def _check(args: argparse.Namespace) -> list[str]:
    from sdv_studio.api.server import is_loopback

    problems = []
    if args.address == "localhost":
        args.address = "127.0.0.1"
    if not 0 <= args.port <= 65535:
        problems.append(f"--port {args.port}: must be 0-65535")
    if args.token_file is not None:
        args.token = _read_token_file(user_path(args.token_file), problems)
        option = "--token-file"
    else:
        option = "--token"
    if args.token is not None and len(args.token.strip()) < MIN_TOKEN:
        problems.append(f"{option}: at least {MIN_TOKEN} characters")
    if args.timeout <= 0:
        problems.append("--timeout: must be more than 0 seconds")
    if (args.tls_cert is None) != (args.tls_private_key is None):
        problems.append("--tls-cert and --tls-private-key: give both or neither")
    for option, value in (("--tls-cert", args.tls_cert), ("--tls-private-key", args.tls_private_key)):
        if value is not None and not user_path(value).is_file():
            problems.append(f"{option}: no such file: {value}")
    problems += [f"--cors-origin {origin}: not an origin like https://host[:port] (or '*')"
                 for origin in args.cors_origin if not _is_origin(origin)]
    if not is_loopback(args.address):
        if not args.allow_remote:
            problems.append(f"--address {args.address}: not a loopback address; serving other machines needs "
                            "--allow-remote with --tls-cert and --tls-private-key")
        elif args.tls_cert is None:
            problems.append(f"--allow-remote: {args.address} needs TLS (--tls-cert and --tls-private-key)")
    return problems


def _is_origin(value: str) -> bool:
    """``*`` or ``scheme://host[:port]``, as a browser sends it in ``Origin``: no path, no trailing slash."""
    from urllib.parse import urlsplit

    if value == "*":
        return True
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.username
            and not (parts.path or parts.query or parts.fragment or value.endswith(("?", "#")))
            and port != 0 and value == f"{parts.scheme}://{parts.netloc}")


def _check_tls(tls: Tls) -> None:
    """A bad certificate or key is the user's input: say so before anything listens."""
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(tls.cert, tls.key)
    except (ssl.SSLError, OSError) as exc:
        raise InvalidInput(f"--tls-cert/--tls-private-key: cannot use them ({exc})") from exc


def _read_token_file(path: Path, problems: list[str]) -> str | None:
    try:
        with path.open("rb") as f:
            head = f.read(TOKEN_FILE_MAX + 1)
    except OSError as exc:
        problems.append(f"--token-file {path}: {exc.strerror}")
        return None
    if len(head) > TOKEN_FILE_MAX:
        problems.append(f"--token-file {path}: larger than {TOKEN_FILE_MAX} bytes; a token is one short line")
        return None
    lines = head.decode("utf-8", errors="replace").splitlines()
    return lines[0].strip() if lines else ""


def run(args: argparse.Namespace) -> int:
    from sdv_studio.api.app import create_app
    from sdv_studio.api.auth import load_or_create_token, token_path
    from sdv_studio.api.server import Tls, listen, make_server, url_of
    from sdv_studio.api.settings import ApiSettings
    from sdv_studio.core.ssh.trust import HostKeyTrust

    problems = _check(args)
    if problems:
        raise InvalidInput(problems)
    connection = connection_defaults(args)
    tls = Tls(Path(args.tls_cert).expanduser(), Path(args.tls_private_key).expanduser()) if args.tls_cert else None
    if tls is not None:
        _check_tls(tls)
    try:
        token = args.token.strip() if args.token else load_or_create_token()
    except OSError as exc:
        raise OperationFailed(f"serve: cannot keep the API token: {exc}") from exc
    where = (f"from {args.token_file}" if args.token_file else "given with --token") if args.token \
        else f"in {token_path()}"
    settings = ApiSettings(token=token, connection=connection, device_timeout=args.timeout,
                           trust=HostKeyTrust(accept_new=args.accept_new_host_keys),
                           cors_origins=tuple(dict.fromkeys(args.cors_origin)))
    try:
        sock = listen(args.address, args.port)
    except OSError as exc:
        raise OperationFailed(f"serve: cannot listen on {args.address}:{args.port}: {exc.strerror or exc}") from exc
    url = url_of(sock, tls)

    def ready() -> None:
        print(f"SDV Studio API listening on {url} (bearer token {where}; OpenAPI at {url}/api/openapi.json)",
              flush=True)

    server = make_server(create_app(settings), tls, ready)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
