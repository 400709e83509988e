# SPDX-License-Identifier: Apache-2.0

"""Wiper service: a Velocitas app that logs the way the Python template does (OpenTelemetry
log records), and runs the front wipers in a slow interval on the bench."""

import asyncio
import logging
import signal

from vehicle import Vehicle, vehicle  # type: ignore
from velocitas_sdk.util.log import (  # type: ignore
    get_opentelemetry_log_factory,
    get_opentelemetry_log_format,
)
from velocitas_sdk.vdb.reply import DataPointReply
from velocitas_sdk.vehicle_app import VehicleApp

# Configure the VehicleApp logger with the necessary log config and level.
logging.setLogRecordFactory(get_opentelemetry_log_factory())
logging.basicConfig(format=get_opentelemetry_log_format())
logging.getLogger().setLevel("DEBUG")
logger = logging.getLogger(__name__)


class WiperServiceApp(VehicleApp):
    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def on_start(self):
        await self.Vehicle.Body.Windshield.Front.Wiping.Mode.subscribe(self.on_mode_changed)
        while True:
            await self.Vehicle.Body.Windshield.Front.Wiping.Mode.set("SLOW")
            await asyncio.sleep(2)
            await self.Vehicle.Body.Windshield.Front.Wiping.Mode.set("OFF")
            await asyncio.sleep(2)

    async def on_mode_changed(self, data: DataPointReply):
        mode = data.get(self.Vehicle.Body.Windshield.Front.Wiping.Mode).value
        logger.info("Wiping mode is now %s", mode)


async def main():
    logger.info("Starting WiperServiceApp...")
    await WiperServiceApp(vehicle).run()


LOOP = asyncio.get_event_loop()
LOOP.add_signal_handler(signal.SIGTERM, LOOP.stop)
LOOP.run_until_complete(main())
LOOP.close()
