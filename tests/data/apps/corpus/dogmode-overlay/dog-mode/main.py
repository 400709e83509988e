"""Dog mode: keeps the cabin at a set temperature while a pet waits in the parked car.

Vehicle.Cabin.DogMode and Vehicle.Cabin.DogModeTemperature are custom signals from
vspec/dogmode.vspec, an overlay on VSS 4.0.
"""

import asyncio
import logging
import signal

from vehicle import Vehicle, vehicle  # type: ignore
from velocitas_sdk.vehicle_app import VehicleApp

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

DOG_MODE_TEMPERATURE = 22.0


class DogModeApp(VehicleApp):
    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def on_start(self):
        await self.Vehicle.Cabin.DogModeTemperature.set(DOG_MODE_TEMPERATURE)
        # No owner comes back on a bench: turn dog mode on and off in turn.
        while True:
            await self.Vehicle.Cabin.DogMode.set(True)
            logger.info("Dog mode on at %.1f °C", DOG_MODE_TEMPERATURE)
            await asyncio.sleep(3)
            await self.Vehicle.Cabin.DogMode.set(False)
            logger.info("Dog mode off")
            await asyncio.sleep(3)


async def main():
    await DogModeApp(vehicle).run()


LOOP = asyncio.get_event_loop()
LOOP.add_signal_handler(signal.SIGTERM, LOOP.stop)
LOOP.run_until_complete(main())
LOOP.close()
