# A prototype as the playground holds it: handed to SDV Studio by index.html's button.
from sdv.vehicle_app import VehicleApp


class SmartWipers(VehicleApp):
    async def on_start(self):
        print("wipers: ready — ✓", flush=True)
