"""Dog mode: keeps the cabin comfortable for a pet while the car is parked."""

import asyncio
import logging

from vehicle import Vehicle, vehicle
from velocitas_sdk.vdb.reply import DataPointReply
from velocitas_sdk.vehicle_app import VehicleApp

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger("dogmode")


class DogModeApp(VehicleApp):
    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def on_start(self):
        await self.Vehicle.Cabin.DogMode.subscribe(self.on_dog_mode)

    async def on_dog_mode(self, data: DataPointReply):
        on = data.get(self.Vehicle.Cabin.DogMode).value
        keep = (await self.Vehicle.Cabin.DogModeTemperature.get()).value
        logger.info("dog mode %s, keeping %s °C", "on" if on else "off", keep)


async def main():
    await DogModeApp(vehicle).run()


asyncio.run(main())
