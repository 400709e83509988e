"""``sdv-studio status|stop|start|logs|rollback|uninstall``: manage deployed apps on devices."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from sdv_studio.cli.device_options import add_device_options, host_key_trust, resolve_or_exit
from sdv_studio.cli.errors import EXIT_FAILED, EXIT_OK
from sdv_studio.core.deploy import DeviceRef
from sdv_studio.core.deploy.app_control import app_action, device_status, follow_logs
from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import StagedCheck
from sdv_studio.models.package import check_name

ACTIONS = {
    "stop": "stop an app on devices",
    "start": "start an app's current version on devices",
    "rollback": "switch an app back to its previous version on devices",
    "uninstall": "stop an app and remove every version of it from devices",
}


def register(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser("status", help="the apps on devices and whether they run")
    status.add_argument("app", nargs="?", metavar="APP", help="only this app")
    add_device_options(status)
    status.set_defaults(handler=run_status)
    for action, text in ACTIONS.items():
        parser = sub.add_parser(action, help=text)
        parser.add_argument("app", metavar="APP", help="the app's name")
        add_device_options(parser)
        if action == "rollback":
            parser.add_argument("--to", metavar="RELEASE", help="a release to go back to (default: the previous one)")
        parser.set_defaults(handler=run_action, action=action)
    logs = sub.add_parser("logs", help="an app's log from devices, one view across them")
    logs.add_argument("app", metavar="APP")
    add_device_options(logs)
    logs.add_argument("--lines", "-n", type=int, default=100, help="lines of history (default 100)")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines until Ctrl-C")
    logs.set_defaults(handler=run_logs)


def _app_name(args: argparse.Namespace) -> str | None:
    if args.app is None:
        return None
    try:
        return check_name(args.app)
    except ValueError as exc:
        raise InvalidInput(f"APP: {exc}") from exc


def run_status(args: argparse.Namespace) -> int:
    name = _app_name(args)
    devices, trust = resolve_or_exit(args), host_key_trust(args)

    async def go() -> list[Any]:
        return list(await asyncio.gather(*(device_status(d, trust, args.timeout, name) for d in devices)))

    results = asyncio.run(go())
    if args.json:
        print(json.dumps({"devices": [r.to_json_dict() for r in results]}, indent=2))
    else:
        for result in results:
            if result.error:
                print(f"{result.device_id}: {result.error}")
                continue
            if not result.apps:
                print(f"{result.device_id}: no apps")
            for app in result.apps:
                where = f"pid {app.pid}" if app.pid else (f"container {app.container_id}" if app.container_id else "")
                why = f"  {app.health.reason}" if app.health and app.health.reason else ""
                if app.status == "staged":
                    why = f"  starts at {app.condition}{_last_check(app.last_check)}"
                print(f"{result.device_id:<16} {app.name:<24} {app.version or '-':<10} {app.status:<8} "
                      f"{app.runtime:<7} {where:<18} restarts {app.restarts}{why}")
    return EXIT_FAILED if any(r.error for r in results) else EXIT_OK


def _last_check(check: StagedCheck | None) -> str:
    """The device's last look at a staged release's condition, for the status line."""
    if check is None:
        return ""
    if check.error:
        return f" (cannot check: {check.error})"
    values = ", ".join(f"{k} = {v}" for k, v in (check.values or {}).items())
    return f" ({'holds' if check.holds else 'not yet'}: {values} at {check.at})"


async def _one(device: DeviceRef, trust: HostKeyTrust, args: argparse.Namespace, name: str) -> dict[str, Any]:
    extra = {"to": args.to} if getattr(args, "to", None) else {}
    try:
        answer = await app_action(device, trust, args.timeout, args.action, name, extra)
        return {"deviceId": device.device_id, "ok": True, "result": answer}
    except DeployError as exc:
        return {"deviceId": device.device_id, "ok": False, "error": str(exc), "logs": exc.logs[-20:]}


def run_action(args: argparse.Namespace) -> int:
    name = _app_name(args)
    assert name is not None
    devices, trust = resolve_or_exit(args), host_key_trust(args)

    async def go() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(_one(d, trust, args, name) for d in devices)))

    results = asyncio.run(go())
    if args.json:
        print(json.dumps({"devices": results}, indent=2))
    for r in results:
        if r["ok"]:
            print(f"{r['deviceId']}: {args.action} {name}: done", file=sys.stderr)
        else:
            print(f"{r['deviceId']}: {args.action} {name}: {r['error']}", file=sys.stderr)
    return EXIT_OK if all(r["ok"] for r in results) else EXIT_FAILED


def run_logs(args: argparse.Namespace) -> int:
    name = _app_name(args)
    assert name is not None
    if args.lines < 0:
        raise InvalidInput("--lines: must not be negative")
    devices, trust = resolve_or_exit(args), host_key_trust(args)
    width = max(len(d.device_id) for d in devices)
    failures: list[str] = []

    async def one(device: DeviceRef) -> None:
        try:
            async for line in follow_logs(device, trust, args.timeout, name, args.lines, args.follow):
                if args.json:  # one object per line, so a follower can read them as they come
                    print(json.dumps({"deviceId": device.device_id, "line": line}), flush=True)
                else:
                    prefix = f"{device.device_id:<{width}} | " if len(devices) > 1 else ""
                    print(prefix + line, flush=True)
        except DeployError as exc:
            failures.append(f"{device.device_id}: {exc}")

    async def go() -> None:
        await asyncio.gather(*(one(d) for d in devices))

    asyncio.run(go())
    for failure in failures:
        print(failure, file=sys.stderr)
    return EXIT_FAILED if failures else EXIT_OK
