# The documentation's asyncio example: the aio client in a coroutine, started with asyncio.run.
import asyncio

from kuksa_client.grpc import Datapoint
from kuksa_client.grpc.aio import VSSClient


async def main():
    async with VSSClient('127.0.0.1', 55555) as client:
        await client.set_current_values({
            'Vehicle.Speed': Datapoint(42),
        })
        async for updates in client.subscribe_current_values(['Vehicle.Speed']):
            print(f"Speed: {updates['Vehicle.Speed'].value}")


asyncio.run(main())
