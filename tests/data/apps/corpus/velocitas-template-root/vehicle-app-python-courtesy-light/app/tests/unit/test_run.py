from unittest import mock

import pytest
from velocitas_sdk.vehicle_app import VehicleApp


@pytest.mark.asyncio
async def test_for_publish_to_topic():
    with mock.patch.object(VehicleApp, "publish_event", new_callable=mock.AsyncMock, return_value=-1):
        response = await VehicleApp.publish_event("courtesylight/getState/response", "{}")
        assert response == -1
