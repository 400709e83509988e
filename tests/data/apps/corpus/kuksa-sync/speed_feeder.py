"""Feeds a made-up drive cycle into Vehicle.Speed, as in the kuksa-client documentation."""

import time

from kuksa_client.grpc import Datapoint, VSSClient

with VSSClient('127.0.0.1', 55555) as client:
    speed = 0.0
    while True:
        speed = (speed + 7.5) % 130
        client.set_current_values({
            'Vehicle.Speed': Datapoint(speed),
        })
        print(f"Feeding Vehicle.Speed to {speed}")
        time.sleep(0.5)
