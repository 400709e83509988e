# A fragment: set-up and a helper, no hooks and nothing that starts it; the template runs it.
import logging

from kuksa_client.grpc import Datapoint

SIGNALS = ['Vehicle.Speed', 'Vehicle.Cabin.HVAC.AmbientAirTemperature']
log = logging.getLogger("fragment")

with open(__file__, encoding="utf-8") as own_source:
    LINES = len(own_source.read().splitlines())


def as_datapoint(value: float) -> Datapoint:
    return Datapoint(value)
