"""A complete kuksa-client app: sets the low beam and follows vehicle speed."""

import asyncio
import logging
import os

from kuksa_client.grpc import Datapoint
from kuksa_client.grpc.aio import VSSClient

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("speed-watch")


async def main() -> None:
    host, _, port = os.getenv("KUKSA_ENDPOINT", "127.0.0.1:55555").rpartition(":")
    log.info("speed-watch starting, databroker %s:%s", host, port)
    async with VSSClient(host, int(port)) as client:
        await client.set_current_values({"Vehicle.Body.Lights.Beam.Low.IsOn": Datapoint(True)})
        async for updates in client.subscribe_current_values(["Vehicle.Speed"]):
            speed = updates["Vehicle.Speed"]
            log.info("speed %s", speed.value if speed else None)


if __name__ == "__main__":
    asyncio.run(main())
