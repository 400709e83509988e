"""Opens and closes the rear trunk, as an end-of-line check of the trunk actuator."""

import asyncio
import logging
import signal

from vehicle import Vehicle, vehicle  # type: ignore
from velocitas_sdk.vehicle_app import VehicleApp

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)


class TrunkCycleApp(VehicleApp):
    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def on_start(self):
        cycle = 0
        while True:
            cycle += 1
            await self.Vehicle.Body.Trunk.Rear.IsOpen.set(True)
            logger.info("Cycle %d: trunk open requested", cycle)
            await asyncio.sleep(2)
            await self.Vehicle.Body.Trunk.Rear.IsOpen.set(False)
            logger.info("Cycle %d: trunk close requested", cycle)
            await asyncio.sleep(2)


async def main():
    logger.info("Starting TrunkCycleApp...")
    await TrunkCycleApp(vehicle).run()


LOOP = asyncio.get_event_loop()
LOOP.add_signal_handler(signal.SIGTERM, LOOP.stop)
LOOP.run_until_complete(main())
LOOP.close()
