# SPDX-License-Identifier: Apache-2.0

"""A Velocitas vehicle app for adjusting the seat position, in the SDK examples' style:
requests come over MQTT, the seat moves through the databroker, the position goes back over MQTT."""

import asyncio
import json
import logging
import signal

from vehicle import Vehicle, vehicle  # type: ignore
from velocitas_sdk.vdb.reply import DataPointReply
from velocitas_sdk.vehicle_app import VehicleApp, subscribe_topic

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

SET_POSITION_REQUEST_TOPIC = "seatadjuster/setPosition/request"
SET_POSITION_RESPONSE_TOPIC = "seatadjuster/setPosition/response"
CURRENT_POSITION_TOPIC = "seatadjuster/currentPosition"


class SeatAdjusterApp(VehicleApp):
    """Moves the driver seat on request, only while the vehicle stands still."""

    def __init__(self, vehicle_client: Vehicle):
        super().__init__()
        self.Vehicle = vehicle_client

    async def on_start(self):
        await self.Vehicle.Cabin.Seat.Row1.DriverSide.Position.subscribe(self.on_seat_position_changed)

    async def on_seat_position_changed(self, data: DataPointReply):
        position = data.get(self.Vehicle.Cabin.Seat.Row1.DriverSide.Position).value
        await self.publish_event(CURRENT_POSITION_TOPIC, json.dumps({"position": position}))

    @subscribe_topic(SET_POSITION_REQUEST_TOPIC)
    async def on_set_position_request_received(self, data_str: str) -> None:
        data = json.loads(data_str)
        response_data = {"requestId": data["requestId"], "result": {}}
        vehicle_speed = (await self.Vehicle.Speed.get()).value
        position = data["position"]
        if vehicle_speed == 0:
            try:
                await self.Vehicle.Cabin.Seat.Row1.DriverSide.Position.set(position)
                response_data["result"] = {"status": 0, "message": f"Set Seat position to: {position}"}
            except ValueError as error:
                response_data["result"] = {
                    "status": 1,
                    "message": f"Failed to set the position {position}, error: {error}",
                }
            except Exception:
                response_data["result"] = {"status": 1, "message": "Exception on set Seat position"}
        else:
            response_data["result"] = {
                "status": 1,
                "message": f"Not allowed to move seat because vehicle speed is {vehicle_speed} and not 0",
            }
        await self.publish_event(SET_POSITION_RESPONSE_TOPIC, json.dumps(response_data))


async def main():
    logger.info("Starting seat adjuster app...")
    seat_app = SeatAdjusterApp(vehicle)
    await seat_app.run()


LOOP = asyncio.get_event_loop()
LOOP.add_signal_handler(signal.SIGTERM, LOOP.stop)
LOOP.run_until_complete(main())
LOOP.close()
