# Copyright (c) 2024 Contributors to the Eclipse Foundation
#
# SPDX-License-Identifier: Apache-2.0

"""A courtesy light app: a welcome sequence on the dome light."""

import asyncio
import json
import logging
import signal

from vehicle import Vehicle, vehicle  # type: ignore
from velocitas_sdk.util.log import (  # type: ignore
    get_opentelemetry_log_factory,
    get_opentelemetry_log_format,
)
from velocitas_sdk.vehicle_app import VehicleApp, subscribe_topic

# Configure the VehicleApp logger with the necessary log config and level.
logging.setLogRecordFactory(get_opentelemetry_log_factory())
logging.basicConfig(format=get_opentelemetry_log_format())
logging.getLogger().setLevel("DEBUG")
logger = logging.getLogger(__name__)

GET_STATE_REQUEST_TOPIC = "courtesylight/getState"
GET_STATE_RESPONSE_TOPIC = "courtesylight/getState/response"


class CourtesyLightApp(VehicleApp):
    """Plays a welcome sequence on the dome light, over and over, for the demo."""

    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def on_start(self):
        while True:
            await self.Vehicle.Cabin.Light.IsDomeOn.set(True)
            logger.info("Dome light on")
            await asyncio.sleep(2)
            await self.Vehicle.Cabin.Light.IsDomeOn.set(False)
            logger.info("Dome light off")
            await asyncio.sleep(2)

    @subscribe_topic(GET_STATE_REQUEST_TOPIC)
    async def on_get_state_request_received(self, data: str) -> None:
        logger.debug("Request on %s: %s", GET_STATE_REQUEST_TOPIC, data)
        is_on = (await self.Vehicle.Cabin.Light.IsDomeOn.get()).value
        await self.publish_event(
            GET_STATE_RESPONSE_TOPIC,
            json.dumps({"result": {"status": 0, "isDomeOn": is_on}}),
        )


async def main():
    """Main function"""
    logger.info("Starting CourtesyLightApp...")
    vehicle_app = CourtesyLightApp(vehicle)
    await vehicle_app.run()


LOOP = asyncio.get_event_loop()
LOOP.add_signal_handler(signal.SIGTERM, LOOP.stop)
LOOP.run_until_complete(main())
LOOP.close()
