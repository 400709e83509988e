# A multi-file prototype as the playground exports a Velocitas app: handed over by index.html.
import asyncio

from vehicle import vehicle
from velocitas_sdk.vehicle_app import VehicleApp
from wipers import wiping_mode


class SmartWipers(VehicleApp):
    async def on_start(self):
        await vehicle.Body.Windshield.Front.Wiping.Mode.set(wiping_mode(rain_intensity=40))


asyncio.run(SmartWipers().run())
