# SPDX-License-Identifier: Apache-2.0

"""Find my car: short honks on request, and a honk pattern at start-up to show it is alive."""

import asyncio
import logging
import signal

from vehicle import Vehicle, vehicle  # type: ignore
from velocitas_sdk.vehicle_app import VehicleApp, subscribe_topic

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)


class FindMyCarApp(VehicleApp):
    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def honk(self, times: int, seconds: float = 1.5):
        for _ in range(times):
            await self.Vehicle.Body.Horn.IsActive.set(True)
            await asyncio.sleep(seconds)
            await self.Vehicle.Body.Horn.IsActive.set(False)
            await asyncio.sleep(seconds)

    async def on_start(self):
        # The bench has no phone app to ask for a honk: keep honking every few seconds.
        while True:
            await self.honk(1)
            logger.info("Honked")

    @subscribe_topic("findmycar/honk")
    async def on_honk_request(self, data: str) -> None:
        await self.honk(3, seconds=0.5)


async def main():
    logger.info("Starting FindMyCarApp...")
    await FindMyCarApp(vehicle).run()


LOOP = asyncio.get_event_loop()
LOOP.add_signal_handler(signal.SIGTERM, LOOP.stop)
LOOP.run_until_complete(main())
LOOP.close()
