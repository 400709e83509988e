# The documentation's subscription example: a for loop over updates, inside the client's block.
from kuksa_client.grpc import VSSClient

with VSSClient('127.0.0.1', 55555) as client:
    for updates in client.subscribe_current_values([
        'Vehicle.Body.Windshield.Front.Wiping.System.TargetPosition',
    ]):
        current_value = updates['Vehicle.Body.Windshield.Front.Wiping.System.TargetPosition']
        print(f"Received updated target position: {current_value.value}")
