# A kuksa-client program whose start sits under the __main__ guard, after a helper it defines.
import asyncio
import logging

from kuksa_client.grpc.aio import VSSClient

log = logging.getLogger("cabin-watch")


async def watch(client: VSSClient) -> None:
    async for updates in client.subscribe_current_values(['Vehicle.Cabin.HVAC.AmbientAirTemperature']):
        log.info("ambient %s", updates['Vehicle.Cabin.HVAC.AmbientAirTemperature'].value)


async def main() -> None:
    async with VSSClient('127.0.0.1', 55555) as client:
        await watch(client)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
