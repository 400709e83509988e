"""A sample skeleton vehicle app, as the Velocitas Python template ships it."""

import asyncio
import json
import logging
import signal

from vehicle import Vehicle, vehicle
from velocitas_sdk.util.log import get_opentelemetry_log_factory, get_opentelemetry_log_format
from velocitas_sdk.vdb.reply import DataPointReply
from velocitas_sdk.vehicle_app import VehicleApp, subscribe_topic

logging.setLogRecordFactory(get_opentelemetry_log_factory())
logging.basicConfig(format=get_opentelemetry_log_format())
logging.getLogger().setLevel("INFO")
logger = logging.getLogger(__name__)


class SampleApp(VehicleApp):
    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def on_start(self):
        await self.Vehicle.Speed.subscribe(self.on_speed_change)

    async def on_speed_change(self, data: DataPointReply):
        speed = data.get(self.Vehicle.Speed).value
        await self.publish_event("sampleapp/currentSpeed", json.dumps({"speed": speed}))

    @subscribe_topic("sampleapp/getSpeed")
    async def on_get_speed_request_received(self, data: str) -> None:
        speed = (await self.Vehicle.Speed.get()).value
        await self.publish_event("sampleapp/getSpeed/response", json.dumps({"speed": speed}))


async def main():
    logger.info("Starting SampleApp...")
    await SampleApp(vehicle).run()


LOOP = asyncio.get_event_loop()
LOOP.add_signal_handler(signal.SIGTERM, LOOP.stop)
LOOP.run_until_complete(main())
LOOP.close()
