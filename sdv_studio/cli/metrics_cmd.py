"""``sdv-studio metrics --device D…``: each device's and app's figures, once (docs/monitoring.md)."""

from __future__ import annotations

import argparse
import asyncio
import json

from sdv_studio.cli.device_options import add_device_options, host_key_trust, resolve_or_exit
from sdv_studio.cli.errors import EXIT_FAILED, EXIT_OK
from sdv_studio.cli.monitor_view import apps_table, console
from sdv_studio.core.deploy import DeviceRef
from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.monitor import sample_metrics
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.metrics import DeviceMetrics


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("metrics", help="CPU, memory, signal updates, KUKSA errors and latency of each "
                                            "device and app, once")
    add_device_options(parser)
    parser.set_defaults(handler=run_metrics)


async def _one(device: DeviceRef, trust: HostKeyTrust, timeout: float) -> DeviceMetrics | str:
    try:
        return await sample_metrics(device, trust, timeout)
    except DeployError as exc:
        return str(exc)


def run_metrics(args: argparse.Namespace) -> int:
    devices, trust = resolve_or_exit(args), host_key_trust(args)

    async def go() -> list[DeviceMetrics | str]:
        return list(await asyncio.gather(*(_one(d, trust, args.timeout) for d in devices)))

    results = asyncio.run(go())
    failed = [(d.device_id, r) for d, r in zip(devices, results, strict=True) if isinstance(r, str)]
    if args.json:
        print(json.dumps({"devices": [r.to_json_dict() if isinstance(r, DeviceMetrics) else
                                      {"deviceId": d.device_id, "error": r}
                                      for d, r in zip(devices, results, strict=True)]}, indent=2))
    else:
        rows = [(d.device_id, "up" if isinstance(r, DeviceMetrics) else "down",
                 r if isinstance(r, DeviceMetrics) else None) for d, r in zip(devices, results, strict=True)]
        console().print(apps_table(rows))
    errors = console(stderr=True)
    for device_id, error in failed:
        errors.print(f"{device_id}: {error}", markup=False)
    return EXIT_FAILED if failed else EXIT_OK
