"""Turn signal check: blinks the left indicator through the databroker, for a container on the
vehicle computer. The broker's address comes from the environment, as KUKSA's feeders take it."""

import asyncio
import logging
import os

from kuksa_client.grpc import Datapoint
from kuksa_client.grpc.aio import VSSClient

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
log = logging.getLogger("turn-signal-check")

LEFT = "Vehicle.Body.Lights.DirectionIndicator.Left.IsSignaling"


async def main() -> None:
    host = os.environ.get("KUKSA_DATA_BROKER_ADDR", "127.0.0.1")
    port = int(os.environ.get("KUKSA_DATA_BROKER_PORT", "55555"))
    async with VSSClient(host, port) as client:
        log.info("Connected to the databroker at %s:%d", host, port)
        on = False
        while True:
            on = not on
            await client.set_target_values({LEFT: Datapoint(on)})
            log.info("Left indicator %s", "on" if on else "off")
            await asyncio.sleep(1.5)


if __name__ == "__main__":
    asyncio.run(main())
