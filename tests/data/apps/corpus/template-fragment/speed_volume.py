# Speed-dependent volume: hooks for SDV Studio's app template, which connects to the databroker
# and calls them with the running app (app.client is a kuksa-client aio VSSClient).
import asyncio

from kuksa_client.grpc import Datapoint

VOLUME = "Vehicle.Cabin.Infotainment.Media.Volume"
SPEED = "Vehicle.Speed"


def volume_for(speed):
    return 30 if speed and speed > 80 else 10


async def on_start(app):
    # With nothing feeding the speed on a bench, step through the two volume levels.
    while True:
        for speed in (50.0, 100.0):
            await app.client.set_target_values({VOLUME: Datapoint(volume_for(speed))})
            await asyncio.sleep(2)


async def subscribe_to_signals(app):
    async for updates in app.client.subscribe_current_values([SPEED]):
        speed = updates[SPEED]
        if speed is not None:
            await app.client.set_target_values({VOLUME: Datapoint(volume_for(speed.value))})


async def on_stop(app):
    await app.client.set_target_values({VOLUME: Datapoint(10)})
