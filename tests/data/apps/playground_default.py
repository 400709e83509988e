# The digital.auto playground's default Python app, in the shape the playground writes it:
# the Velocitas SDK under its old name (sdv.*), the generated vehicle model, and an explicit loop.
import asyncio
import signal

from sdv.vdb.reply import DataPointReply  # noqa: F401  (the playground always imports it)
from sdv.vehicle_app import VehicleApp
from vehicle import Vehicle, vehicle


class TestApp(VehicleApp):
    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def on_start(self):
        # Toggle the low beam every few seconds and read it back.
        while True:
            await asyncio.sleep(1)
            await self.Vehicle.Body.Lights.Beam.Low.IsOn.set(True)
            value = (await self.Vehicle.Body.Lights.Beam.Low.IsOn.get()).value
            print("Light value ", value)
            await asyncio.sleep(1)
            await self.Vehicle.Body.Lights.Beam.Low.IsOn.set(False)
            value = (await self.Vehicle.Body.Lights.Beam.Low.IsOn.get()).value
            print("Light value ", value)


async def main():
    vehicle_app = TestApp(vehicle)
    await vehicle_app.run()


LOOP = asyncio.get_event_loop()
LOOP.add_signal_handler(signal.SIGTERM, LOOP.stop)
LOOP.run_until_complete(main())
LOOP.close()
