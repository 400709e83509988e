"""Run the broker in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from sdv_studio.broker.server import BrokerOptions, serve_forever


def run(options: BrokerOptions) -> None:
    """Raises what server.start raises (bad VSS file, port in use, no MQTT broker)."""
    asyncio.run(_main(options))


async def _main(options: BrokerOptions) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve_forever(options, stop)
