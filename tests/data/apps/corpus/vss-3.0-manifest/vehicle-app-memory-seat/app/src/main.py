# SPDX-License-Identifier: Apache-2.0

"""Memory seat for a VSS 3.0 vehicle model (seats are still Row1.Pos1 there): moves the driver
seat between the two stored driver profiles."""

import asyncio
import logging
import signal

from vehicle import Vehicle, vehicle  # type: ignore
from velocitas_sdk.vehicle_app import VehicleApp

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

PROFILES = {"alice": 100, "bob": 200}


class MemorySeatApp(VehicleApp):
    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def on_start(self):
        while True:
            for driver, position in PROFILES.items():
                await self.Vehicle.Cabin.Seat.Row1.Pos1.Position.set(position)
                logger.info("Seat moved to %s's position %d", driver, position)
                await asyncio.sleep(2)


async def main():
    await MemorySeatApp(vehicle).run()


LOOP = asyncio.get_event_loop()
LOOP.add_signal_handler(signal.SIGTERM, LOOP.stop)
LOOP.run_until_complete(main())
LOOP.close()
