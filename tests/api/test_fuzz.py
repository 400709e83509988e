"""schemathesis against the served OpenAPI document: no request, valid or not, gets a 5xx.

Nothing may leave 127.0.0.1 while fuzzing, so the generated cases are steered: pip is offline
(PIP_NO_INDEX) and package requests name no extra requirements (a build that needs wheels it cannot
have is a 502 by design, the index being unreachable: test_errors.py covers it), discovery only
sweeps 127.0.0.1 without mDNS, deployments name a package that does not exist (their bodies are
still fuzzed; they stop at the 404), and metrics, whose only input is a device address, are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from sdv_studio.api.settings import ApiSettings
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.api.server import TOKEN, RunningApi, running_api

pytestmark = pytest.mark.timeout(180)
MISSING_PACKAGE = "pkg_" + "0" * 16
DISCOVER = "/api/devices/discover"
PACKAGE = "/api/apps/package"
STATUSES: Counter[int] = Counter()
SERVER_ERRORS: list[str] = []
_PACKAGE_ID = re.compile(r"pkg_[0-9a-f]{8,64}")
EXAMPLES = 100  # per operation and mode: over 1,000 requests in all, in well under a minute


@pytest.fixture(scope="module")
def fuzz_api(api_home: Path) -> Iterator[RunningApi]:
    settings_ = ApiSettings(token=TOKEN, trust=HostKeyTrust(KnownHosts(api_home / "known_hosts")),
                            device_timeout=2.0, shutdown_timeout=10.0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIP_NO_INDEX", "1")
        with running_api(settings_) as running:
            yield running


def _loopback_only(values: Any) -> list[Any]:
    """Valid ranges become 127.0.0.1/32; invalid ones stay, to exercise the 4xx path."""
    out = []
    for value in values if isinstance(values, list) else [values]:
        try:
            ip_network(str(value).strip(), strict=False)
        except ValueError:
            out.append(value)
        else:
            out.append("127.0.0.1/32")
    return out or ["127.0.0.1/32"]


@pytest.fixture(scope="module")
def api_schema(fuzz_api: RunningApi) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{fuzz_api.url}/api/openapi.json", headers=fuzz_api.auth)
    schema.config.update(headers=fuzz_api.auth)  # on every case; the 401s are tested in test_auth.py

    @schema.hook
    def map_query(context: schemathesis.HookContext, query: dict[str, Any] | None) -> dict[str, Any] | None:
        if context.operation is not None and context.operation.path == DISCOVER:
            query = dict(query or {})
            query["mdns"] = "false"
            query["cidr"] = _loopback_only(query.get("cidr", []))
        return query

    @schema.hook
    def map_body(context: schemathesis.HookContext, body: Any) -> Any:
        if (context.operation is not None and context.operation.path == "/api/deployments"
                and isinstance(body, dict) and isinstance(body.get("packageId"), str)
                and _PACKAGE_ID.fullmatch(body["packageId"])):
            body = {**body, "packageId": MISSING_PACKAGE}
        if context.operation is not None and context.operation.path == PACKAGE and isinstance(body, dict) \
                and isinstance(body.get("requirements"), list):
            body = {**body, "requirements": []}
        return body

    @schema.hook
    def after_call(_context: schemathesis.HookContext, case: schemathesis.Case, response: Any) -> None:
        STATUSES[response.status_code] += 1
        if response.status_code >= 500:
            SERVER_ERRORS.append(f"{case.method} {case.path}: {response.status_code} {response.text[:300]}")

    # Its only input is the address of a device to connect to: fuzzing it would be a scan.
    # test_requests.py checks its 404 (not a device) and 502 (device unreachable) answers.
    return schema.exclude(path="/api/devices/{device_id}/metrics")


def fuzz(operation: schemathesis.APIOperation, mode: GenerationMode, excluded: list) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(timeout=60, excluded_checks=excluded)

    check()


def test_no_server_errors(api_schema: schemathesis.BaseSchema) -> None:
    # Hypothesis driven per operation and mode here (schemathesis' lazy pytest fixture loader does not
    # run on this pytest): valid requests, then invalid ones.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 7
    failures: list[str] = []
    for operation in operations:
        # Schema-valid requests may still be refused by rules a schema cannot state (a package that
        # does not exist, code that does not parse): a 4xx there is by design.
        excluded = [positive_data_acceptance]
        if operation.path == DISCOVER:  # map_query rewrites its parameters, invalid ones into valid
            excluded.append(negative_data_rejection)
        if operation.path == PACKAGE:  # its one 5xx is checked by after_call instead
            excluded.append(not_a_server_error)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, excluded)
            except Unsatisfiable:
                # A lone string path parameter cannot be made invalid: no negative cases exist.
                assert mode is GenerationMode.NEGATIVE, operation.path
            except Exception as exc:
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    print(f"{sum(STATUSES.values())} requests by status: {dict(sorted(STATUSES.items()))}")
    assert sum(STATUSES.values()) >= 1000 and not SERVER_ERRORS, SERVER_ERRORS
