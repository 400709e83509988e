"""Deployment progress on stderr: a live table on a terminal, one line per event otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from sdv_studio.core.deploy.events import DeploymentEvent, DeviceLog, DeviceProgress, WaveChanged

_BAR = 24
_MARK = {"success": "\u2714", "error": "\u2718", "cancelled": "-", "skipped": "-",
         "deploying": " ", "pending": " "}


class ProgressPrinter:
    def __init__(self, device_ids: list[str], stream: TextIO = sys.stderr, verbose: bool = False) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.verbose = verbose
        self.rows: dict[str, DeviceProgress | None] = dict.fromkeys(device_ids)
        self.width = max((len(d) for d in device_ids), default=6)
        self.started = time.monotonic()
        self._drawn = 0

    def handle(self, event: DeploymentEvent) -> None:
        if isinstance(event, DeviceProgress):
            self.rows[event.device_id] = event
            if self.live:
                self._draw()
            else:
                print(f"{event.device_id:<{self.width}}  {event.progress:3d}%  {event.status:<9} {event.message}",
                      file=self.stream, flush=True)
        elif isinstance(event, DeviceLog) and (self.verbose or not self.live):
            self._print_above(f"{event.device_id:<{self.width}}  | {event.line}")
        elif isinstance(event, WaveChanged):
            failed = f", {event.failed} failed" if event.failed else ""
            self._print_above(f"wave {event.index} ({len(event.devices)} device(s): {', '.join(event.devices)}): "
                              f"{event.status}{failed}")

    def _print_above(self, line: str) -> None:
        if self.live and self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0
        print(line, file=self.stream, flush=True)
        if self.live:
            self._draw()

    def _draw(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F")
        elapsed = time.monotonic() - self.started
        for device_id, event in self.rows.items():
            progress = event.progress if event else 0
            status = event.status if event else "pending"
            filled = round(_BAR * progress / 100)
            bar = "\u2588" * filled + "\u2591" * (_BAR - filled)
            message = event.message if event else "Waiting to start..."
            self.stream.write(f"\x1b[2K{_MARK.get(status, ' ')} {device_id:<{self.width}} {bar} {progress:3d}%  "
                              f"{message[:70]}\n")
        self.stream.write(f"\x1b[2K  {elapsed:5.1f}s\n")
        self.stream.flush()
        self._drawn = len(self.rows) + 1
