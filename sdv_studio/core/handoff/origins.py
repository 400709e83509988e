"""Which web pages may hand code to the desktop app, and on which port it listens for them.

The playground's own origins by default. ``SDV_STUDIO_HANDOFF_ORIGINS`` (comma-separated) and
``SDV_STUDIO_HANDOFF_PORT`` override what the app's settings say: for tests and for trying a page
of one's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sdv_studio.core.defaults import HANDOFF_PORT
from sdv_studio.core.errors import InvalidInput

PLAYGROUND_ORIGINS = ("https://playground.digital.auto", "https://digital.auto", "https://www.digital.auto")
ORIGINS_ENV = "SDV_STUDIO_HANDOFF_ORIGINS"
PORT_ENV = "SDV_STUDIO_HANDOFF_PORT"


def normalize_origin(text: str) -> str:
    """``scheme://host[:port]`` in lower case, the way browsers send ``Origin``; raises InvalidInput."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        raise InvalidInput([f"origin {text!r}: must be scheme://host[:port], e.g. https://digital.auto"])
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidInput([f"origin {text!r}: {exc}"]) from exc
    host = parts.hostname.lower()
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


@dataclass(frozen=True)
class OriginPolicy:
    allowed: frozenset[str]

    @classmethod
    def of(cls, origins: Iterable[str]) -> OriginPolicy:
        return cls(frozenset(normalize_origin(o) for o in origins if o.strip()))

    def allows(self, origin: str | None) -> bool:
        """An exact match only: no wildcards, and a page without an Origin (or ``null``) never."""
        if not origin or origin == "null":
            return False
        try:
            return normalize_origin(origin) in self.allowed
        except InvalidInput:
            return False


@dataclass(frozen=True)
class HandoffConfig:
    port: int
    policy: OriginPolicy


def handoff_config(port: int = HANDOFF_PORT, origins: Iterable[str] = PLAYGROUND_ORIGINS) -> HandoffConfig:
    """The given settings, with the environment's overrides; raises InvalidInput naming the variable."""
    port_text = os.environ.get(PORT_ENV)
    if port_text:
        try:
            port = int(port_text)
        except ValueError:
            port = -1
    if not 0 <= port <= 65535:
        raise InvalidInput([f"{PORT_ENV if port_text else 'handoff port'}: must be a port number (0-65535)"])
    origins_text = os.environ.get(ORIGINS_ENV)
    if origins_text is not None:
        origins = origins_text.split(",")
    return HandoffConfig(port=port, policy=OriginPolicy.of(origins))
