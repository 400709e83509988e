"""Raw-socket probes: is a port open, does it speak TLS, MQTT or a VISS websocket."""

from __future__ import annotations

import asyncio
import base64
import os
import ssl

# MQTT 3.1.1 CONNECT, clean session, keep-alive 10 s, client id "sdv-probe".
_MQTT_CONNECT = bytes([0x10, 21, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 10, 0, 9]) + b"sdv-probe"
_MQTT_DISCONNECT = bytes([0xE0, 0])


async def _open(
    host: str, port: int, timeout: float, tls: ssl.SSLContext | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(host, port, ssl=tls), timeout)


async def _close(writer: asyncio.StreamWriter) -> None:
    # Abort, not close: a TLS peer that never answers close_notify would hold us for 30 s.
    writer.transport.abort()


async def is_open(host: str, port: int, timeout: float) -> bool:
    try:
        _, writer = await _open(host, port, timeout)
    except (TimeoutError, OSError):
        return False
    await _close(writer)
    return True


def _insecure_context(alpn: list[str]) -> ssl.SSLContext:
    # Only to learn whether the port talks TLS and fetch its certificate; nothing is trusted here.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(alpn)
    return context


async def tls_certificate(host: str, port: int, timeout: float) -> str | None:
    """The server's certificate (PEM) if the port completes a TLS handshake, else None."""
    try:
        _, writer = await _open(host, port, timeout, _insecure_context(["h2"]))
    except (TimeoutError, OSError, ssl.SSLError):
        return None
    sslobj = writer.get_extra_info("ssl_object")
    der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    await _close(writer)
    return ssl.DER_cert_to_PEM_cert(der) if der else None


async def is_mqtt(host: str, port: int, timeout: float, tls: bool = False) -> bool:
    try:
        reader, writer = await _open(host, port, timeout, _insecure_context(["mqtt"]) if tls else None)
    except (TimeoutError, OSError, ssl.SSLError):
        return False
    try:
        writer.write(_MQTT_CONNECT)
        await writer.drain()
        answer = await asyncio.wait_for(reader.readexactly(4), timeout)
        if answer[0] == 0x20:
            writer.write(_MQTT_DISCONNECT)
            await writer.drain()
            return True
        return False
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ssl.SSLError):
        return False
    finally:
        await _close(writer)


async def is_viss_websocket(host: str, port: int, timeout: float, tls: bool = False) -> bool:
    """A websocket upgrade offering the VISS v2 subprotocol, as KUKSA's VISS endpoint serves it."""
    try:
        reader, writer = await _open(host, port, timeout, _insecure_context(["http/1.1"]) if tls else None)
    except (TimeoutError, OSError, ssl.SSLError):
        return False
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: VISSv2\r\n\r\n"
    )
    try:
        writer.write(request.encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout)
        return status.startswith(b"HTTP/1.1 101")
    except (TimeoutError, OSError, ssl.SSLError):
        return False
    finally:
        await _close(writer)
