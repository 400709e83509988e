# A fragment: only hooks for the SDV Studio app template, which connects and runs them.
from kuksa_client.grpc import Datapoint


async def on_start(app):
    await app.client.set_current_values({"Vehicle.Body.Lights.Beam.Low.IsOn": Datapoint(True)})


async def subscribe_to_signals(app):
    async for updates in app.client.subscribe_current_values(["Vehicle.Speed"]):
        print("speed", updates["Vehicle.Speed"].value)
