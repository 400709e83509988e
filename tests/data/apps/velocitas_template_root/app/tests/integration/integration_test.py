import json

import pytest
from velocitas_sdk.test.inttesthelper import IntTestHelper
from velocitas_sdk.test.mqtt_util import MqttClient

GET_SPEED_REQUEST_TOPIC = "sampleapp/getSpeed"
GET_SPEED_RESPONSE_TOPIC = "sampleapp/getSpeed/response"


@pytest.mark.asyncio
async def test_get_current_speed():
    mqtt_client = MqttClient()
    inttesthelper = IntTestHelper()
    await inttesthelper.set_float_datapoint(name="Vehicle.Speed", value=0)
    response = mqtt_client.publish_and_wait_for_response(
        request_topic=GET_SPEED_REQUEST_TOPIC, response_topic=GET_SPEED_RESPONSE_TOPIC, payload={})
    assert json.loads(response)["result"]["status"] == 0
