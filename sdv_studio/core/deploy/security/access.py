"""The databroker credentials an app gets, and what its ``dataAccess`` level makes true.

- ``open``: a token allowing every signal where SDV Studio's databroker verifies tokens (it does
  on every device it starts on), so open and restricted apps share one broker;
- ``restricted``: a token allowing only the app's signals (security.signals);
- ``encrypted``: as restricted, and the app reaches its databroker over TLS (``--broker-ca``).

A token the user gives (``--broker-token-file``) is passed as it is, to any broker. A broker
that is not SDV Studio's verifies tokens SDV Studio cannot mint: without a given token,
restricted access is reported as not enforced there, never claimed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sdv_studio.core.deploy.security.signals import SignalsError, declared_signals
from sdv_studio.core.deploy.security.tokens import FULL_ACCESS, SigningKey, mint

DATA_ACCESS_LEVELS = ("open", "restricted", "encrypted")
DEFAULT_DATA_ACCESS = "restricted"  # models.package.SecurityConfig's default


@dataclass(frozen=True)
class BrokerAccess:
    token: str | None = None
    ca_pem: bytes | None = None
    enforced: list[str] = field(default_factory=list)
    not_enforced: list[str] = field(default_factory=list)


def data_access_of(manifest: Mapping[str, object]) -> str:
    security = manifest.get("security")
    level = security.get("dataAccess") if isinstance(security, dict) else None
    return str(level) if level in DATA_ACCESS_LEVELS else DEFAULT_DATA_ACCESS


def broker_access(entries: Mapping[str, bytes], app: str, level: str, broker: str, *, ours: bool,
                  key: SigningKey, given_token: str | None = None, given_ca: bytes | None = None) -> BrokerAccess:
    """``ours``: the databroker at ``broker`` verifies tokens signed with ``key``.

    Raises SignalsError when the app's AppManifest.json declares datapoints that cannot be read."""
    enforced: list[str] = []
    missing: list[str] = []
    token = given_token
    if given_token is not None:
        enforced.append(f"databroker token: the one given, scoped as its issuer made it ({broker})")
    elif ours and level == "open":
        token = mint(key, app, FULL_ACCESS)
        enforced.append("databroker token: every signal (dataAccess open)")
    elif ours:
        scope = declared_signals(entries)
        token = mint(key, app, scope.claim())
        enforced.append(f"data access {level}: the databroker lets the app use only what it declares; "
                        f"it {scope.describe()}")
    elif level != "open":
        missing.append(f"data access {level}: the databroker at {broker} is not SDV Studio's, so it cannot "
                       "check the app's signals with a token SDV Studio makes; give a token scoped to the app "
                       "(--broker-token-file)")
    if given_ca is not None:
        enforced.append("TLS to the databroker, verified with the given CA")
    elif level == "encrypted":
        missing.append("data access encrypted: the app reaches its databroker without TLS; for a TLS "
                       "databroker give its CA (--broker-ca)")
    return BrokerAccess(token, given_ca, enforced, missing)


__all__ = ["DATA_ACCESS_LEVELS", "BrokerAccess", "SignalsError", "broker_access", "data_access_of"]
