"""The embedded fallback KUKSA databroker (gRPC) and its MQTT companion."""
