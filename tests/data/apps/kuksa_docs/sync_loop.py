# A kuksa-client program as the KUKSA Python SDK documentation writes it: the synchronous client,
# connected at module level, polling in its own loop.
import time

from kuksa_client.grpc import Datapoint, VSSClient

with VSSClient('127.0.0.1', 55555) as client:
    client.set_target_values({
        'Vehicle.Body.Windshield.Front.Wiping.System.Mode': Datapoint('WIPE'),
    })
    while True:
        current_values = client.get_current_values([
            'Vehicle.Speed',
            'Vehicle.Body.Windshield.Front.Wiping.System.TargetPosition',
        ])
        print(current_values['Vehicle.Speed'].value)
        time.sleep(1)
