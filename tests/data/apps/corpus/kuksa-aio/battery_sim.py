"""Simulates a draining traction battery with the kuksa-client asyncio API, and watches the
charge limit an app or a user sets."""

import asyncio
import logging

from kuksa_client.grpc import Datapoint
from kuksa_client.grpc.aio import VSSClient

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger("battery-sim")

SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
LIMIT = "Vehicle.Powertrain.TractionBattery.Charging.ChargeLimit"


async def drain(client: VSSClient) -> None:
    soc = 80.0
    while True:
        soc = soc - 0.5 if soc > 20.0 else 80.0
        await client.set_current_values({SOC: Datapoint(soc)})
        await asyncio.sleep(0.5)


async def watch_limit(client: VSSClient) -> None:
    async for updates in client.subscribe_current_values([LIMIT]):
        if updates[LIMIT] is not None:
            logger.info("Charge limit now %s %%", updates[LIMIT].value)


async def main() -> None:
    async with VSSClient("127.0.0.1", 55555) as client:
        await asyncio.gather(drain(client), watch_limit(client))


if __name__ == "__main__":
    asyncio.run(main())
