"""``sdv-studio monitor APP --device D…``: live metrics and signal values until interrupted: a table on
a terminal, one JSON object per line with ``--json``, one plain line per event otherwise."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import json
import sys
from collections.abc import Awaitable

from rich.live import Live

from sdv_studio.cli.device_options import add_device_options, host_key_trust, resolve_or_exit
from sdv_studio.cli.errors import EXIT_OK
from sdv_studio.cli.monitor_view import LiveState, console, event_line
from sdv_studio.core.deploy import DeviceRef
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.monitor import MonitorEvent, Watch, event_to_json, monitor
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.package import check_name

REFRESH_PER_SECOND = 4
# After Ctrl-C, at most this long to close the devices' connections: a close that waits on something
# that never comes must not hang the terminal. Past it, every thread's stack goes to stderr (where it
# waited) and the process exits with status 1.
CLOSE_SECONDS = 10.0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("monitor", help="an app's metrics and live signal values on devices, until Ctrl-C")
    parser.add_argument("app", metavar="APP", help="the app's name: its metrics, and the signals its package lists")
    add_device_options(parser)
    parser.add_argument("--signal", "-s", action="append", default=[], metavar="PATH",
                        help="a VSS path to watch besides the app's own (repeatable)")
    parser.set_defaults(handler=run_monitor)


def _watch(args: argparse.Namespace) -> Watch:
    try:
        app = check_name(args.app)
    except ValueError as exc:
        raise InvalidInput(f"APP: {exc}") from exc
    bad = [p for p in args.signal if not p.startswith("Vehicle.") or not all(part for part in p.split("."))]
    if bad:
        raise InvalidInput([f"--signal: {p!r}: expected a VSS path such as Vehicle.Speed" for p in bad])
    return Watch(app=app, signals=tuple(dict.fromkeys(args.signal)), timeout=min(args.timeout, 30.0))


def run_monitor(args: argparse.Namespace) -> int:
    watch = _watch(args)
    devices, trust = resolve_or_exit(args), host_key_trust(args)
    show = _json_lines if args.json else (_table if sys.stdout.isatty() else _lines)
    with contextlib.suppress(KeyboardInterrupt):  # the way a monitor ends: not a failure
        asyncio.run(_until_interrupted(show(devices, trust, watch)))
    faulthandler.cancel_dump_traceback_later()
    return EXIT_OK


async def _until_interrupted(shown: Awaitable[None]) -> None:
    try:
        await shown
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels this, then closes what is left
        faulthandler.dump_traceback_later(CLOSE_SECONDS, exit=True)
        raise


async def _json_lines(devices: list[DeviceRef], trust: HostKeyTrust, watch: Watch) -> None:
    async for event in monitor(devices, trust, watch):
        print(json.dumps(event_to_json(event)), flush=True)


async def _lines(devices: list[DeviceRef], trust: HostKeyTrust, watch: Watch) -> None:
    assert watch.app is not None
    async for event in monitor(devices, trust, watch):
        line = event_line(event, watch.app)
        if line:
            print(line, flush=True)


async def _table(devices: list[DeviceRef], trust: HostKeyTrust, watch: Watch) -> None:
    assert watch.app is not None
    state = LiveState(watch.app, [d.device_id for d in devices])
    events: asyncio.Queue[MonitorEvent] = asyncio.Queue()

    async def take() -> None:
        async for event in monitor(devices, trust, watch):
            await events.put(event)

    reader = asyncio.create_task(take())
    try:
        with Live(state.render(), console=console(), auto_refresh=False) as live:
            while not reader.done():
                # Redrawn a few times a second however many updates arrive: ten signals at 10 Hz on
                # six devices must not mean 600 redraws a second.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1 / REFRESH_PER_SECOND):
                        while True:
                            state.take(await events.get())
                live.update(state.render(), refresh=True)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    reader.result()
