"""``sdv-studio deploy PACKAGE --device D...``: deploy to one or many devices in parallel."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from sdv_studio.cli.broker_credential_options import add_broker_credential_options, broker_credentials
from sdv_studio.cli.deploy_progress import ProgressPrinter
from sdv_studio.cli.device_options import add_device_options, host_key_trust, resolve_or_exit
from sdv_studio.cli.errors import EXIT_FAILED, EXIT_OK
from sdv_studio.core.defaults import DEPLOY_CONCURRENCY
from sdv_studio.core.deploy import DeployOptions, start_deployment
from sdv_studio.core.deploy.app_control import cancel_staged
from sdv_studio.core.deploy.device_ref import DeviceRef
from sdv_studio.core.deploy.kuksa_wiring import broker_catalogue
from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.deploy.package_file import PackageFile, PackageUnreadable, open_package
from sdv_studio.core.deploy.schedule import CATALOGUE_ENTRY, DEFAULT_IDLE, Schedule, check_schedule, parse_schedule
from sdv_studio.core.deploy.security.preview import preview
from sdv_studio.core.deploy.waves import MaxFailed, WavePlan, parse_max_failed, parse_waves
from sdv_studio.core.errors import InvalidInput
from sdv_studio.models.deployment import Deployment
from sdv_studio.models.package import check_name


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("deploy", help="deploy a package to one or many devices in parallel",
                            description="Deploy a package (file or packageId) to every --device at once.")
    parser.add_argument("package", metavar="PACKAGE", nargs="?",
                        help="a package file or a packageId from the local store")
    add_device_options(parser)
    parser.add_argument("--hot-swap", action=argparse.BooleanOptionalAction, default=None,
                        help="start the new version beside the old one and switch when it is healthy "
                        "(default: as the package's deployment.hotSwap says)")
    parser.add_argument("--no-rollback", action="store_true",
                        help="if the new version fails, leave nothing running instead of restarting the old one")
    parser.add_argument("--broker", metavar="HOST:PORT", help="wire the app to this databroker (default: detect "
                        "one on the device, else start SDV Studio's)")
    parser.add_argument("--force", action="store_true",
                        help="replace the installed version even where its package said deployment.otaEnabled: "
                        "false (which pins it)")
    add_broker_credential_options(parser)
    parser.add_argument("--grace", type=float, default=3.0, metavar="S",
                        help="seconds a new version must stay up before it counts as healthy (default 3)")
    parser.add_argument("--advertise", action="store_true",
                        help="announce the devices over mDNS (_sdv-agent._tcp) after the deploy, on the interface "
                             "reached; saved devices can opt in for good with `devices add --advertise`")
    parser.add_argument("--concurrency", type=int, default=DEPLOY_CONCURRENCY, metavar="N",
                        help="devices worked on at once (default: a limit that adapts to this computer's cores "
                        "and how busy deploying keeps it)")
    waves = parser.add_argument_group("rolling out in waves")
    waves.add_argument("--waves", metavar="N|P%,…",
                       help="deploy wave after wave, in the order the devices are given: where each wave ends, "
                       "cumulatively, as a count or a percentage of the devices (e.g. 1,25%%,100%%)")
    waves.add_argument("--max-failed", metavar="N|P%",
                       help="devices of one wave that may fail before the rollout stops and later waves are "
                       "skipped (default 0)")
    waves.add_argument("--pause-between", type=float, default=0.0, metavar="S", help="seconds between waves")
    waves.add_argument("--rollback-wave", action="store_true",
                       help="when a wave stops the rollout, roll its successful devices back to their previous "
                       "version")
    later = parser.add_argument_group("scheduled updates: stage now, start on the device later")
    later.add_argument("--when", choices=["idle"],
                       help="install the release on the devices but start it only when the app is idle there: "
                       f"when the --idle condition holds on the device's databroker (default {DEFAULT_IDLE!r})")
    later.add_argument("--idle", metavar="CONDITION",
                       help="with --when idle: VSS comparisons joined by and, e.g. 'Vehicle.Speed == 0 and "
                       "Vehicle.Powertrain.Transmission.SelectedGear == 0' (==, !=, <, <=, >, >=)")
    later.add_argument("--at", metavar="HH:MM-HH:MM",
                       help="install the release but start it only within this daily window, in the device's "
                       "local time (it may cross midnight, e.g. 23:00-01:00)")
    later.add_argument("--cancel-staged", metavar="APP",
                       help="instead of deploying: cancel APP's staged release on the devices (what runs stays)")
    parser.set_defaults(handler=run)


def _wave_plan(args: argparse.Namespace) -> WavePlan | None:
    if args.waves is None:
        for option, given in (("--max-failed", args.max_failed is not None), ("--pause-between", args.pause_between),
                              ("--rollback-wave", args.rollback_wave)):
            if given:
                raise InvalidInput(f"{option}: only with --waves")
        return None
    if args.pause_between < 0:
        raise InvalidInput("--pause-between: must not be negative")
    max_failed = MaxFailed(count=0) if args.max_failed is None else parse_max_failed(args.max_failed)
    return WavePlan(parse_waves(args.waves), max_failed, args.pause_between, args.rollback_wave)


def _schedule(args: argparse.Namespace, package: PackageFile | None, problems: list[str]) -> Schedule | None:
    """The schedule the options ask for, checked against the package; its problems into ``problems``."""
    try:
        schedule = parse_schedule(args.when, args.idle, args.at)
    except InvalidInput as exc:
        problems += exc.problems
        return None
    if schedule is not None and package is not None:
        problems += check_schedule(schedule, package.manifest,
                                   broker_catalogue(package.manifest, package.entries.get(CATALOGUE_ENTRY))[0])
    return schedule


def run(args: argparse.Namespace) -> int:
    if args.cancel_staged is not None:
        return run_cancel_staged(args)
    if args.package is None:
        raise InvalidInput("PACKAGE: name the package to deploy (or give --cancel-staged APP)")
    if args.concurrency is not None and args.concurrency < 1:
        raise InvalidInput("--concurrency: must be at least 1")
    if args.grace < 0:
        raise InvalidInput("--grace: must not be negative")
    problems: list[str] = []  # every one at once: the options', the package's, the devices'
    plan = None
    try:
        plan = _wave_plan(args)
    except InvalidInput as exc:
        problems += exc.problems
    package = None
    try:
        package = open_package(args.package)
    except PackageUnreadable as exc:  # reported with the devices' problems, all at once
        problems += exc.problems
    schedule = _schedule(args, package, problems)
    try:
        devices = resolve_or_exit(args)
    except InvalidInput as exc:
        problems += exc.problems
    token, ca = broker_credentials(args, problems)
    if problems:
        raise InvalidInput(problems)
    assert package is not None
    options = DeployOptions(hot_swap=args.hot_swap, rollback=not args.no_rollback, broker=args.broker,
                            grace_seconds=args.grace, connect_timeout=args.timeout, advertise=args.advertise,
                            force=args.force, broker_token=token, broker_ca=ca, schedule=schedule)
    trust = host_key_trust(args)
    printer = ProgressPrinter([d.device_id for d in devices], verbose=args.verbose > 0)
    print(f"deploying {package.name} {package.version} ({package.package_id}) to {len(devices)} device(s)",
          file=sys.stderr)
    for line in preview(package.manifest, package.entries):
        print(f"  {line}", file=sys.stderr)

    async def go() -> Deployment:
        deployment_run = start_deployment(package, devices, trust, options, concurrency=args.concurrency, plan=plan)
        try:
            async for event in deployment_run.hub.follow():
                printer.handle(event)
        except asyncio.CancelledError:
            deployment_run.cancel()
            raise
        return await deployment_run.wait()

    result = asyncio.run(go())
    for row in result.devices:
        if row.status != "success":
            print(f"{row.device_id}: {row.message}", file=sys.stderr)
            for line in row.logs[-10:]:
                print(f"{row.device_id}  | {line}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json_dict(), indent=2))
    else:
        print(f"{result.deployment_id}: {result.status}", file=sys.stderr)
    return EXIT_OK if result.status == "completed" else EXIT_FAILED


def run_cancel_staged(args: argparse.Namespace) -> int:
    """``deploy --cancel-staged APP --device D…``: the staged release of APP cancelled on each device."""
    given = [o for o, v in (("PACKAGE", args.package), ("--when", args.when), ("--idle", args.idle),
                            ("--at", args.at), ("--waves", args.waves)) if v is not None]
    problems = [f"{o}: not with --cancel-staged" for o in given]
    try:
        name = check_name(args.cancel_staged)
    except ValueError as exc:
        problems.append(f"--cancel-staged: {exc}")
    try:
        devices = resolve_or_exit(args)
    except InvalidInput as exc:
        problems += exc.problems
    if problems:
        raise InvalidInput(problems)
    trust = host_key_trust(args)

    async def one(device: DeviceRef) -> dict[str, Any]:
        try:
            answer = await cancel_staged(device, trust, args.timeout, name)
            return {"deviceId": device.device_id, "ok": True, "cancelled": answer.get("cancelled")}
        except DeployError as exc:
            return {"deviceId": device.device_id, "ok": False, "error": str(exc)}

    async def go() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(one(d) for d in devices)))

    results = asyncio.run(go())
    for r in results:
        if r["ok"]:
            cancelled = r["cancelled"] or {}
            print(f"{r['deviceId']}: cancelled {name} {cancelled.get('version')} (staged to start "
                  f"{cancelled.get('condition')}); what runs is unchanged", file=sys.stderr)
        else:
            print(f"{r['deviceId']}: {r['error']}", file=sys.stderr)
    if args.json:
        print(json.dumps({"devices": results}, indent=2))
    return EXIT_OK if all(r["ok"] for r in results) else EXIT_FAILED
