"""Finding KUKSA databrokers (and MQTT / VISS endpoints) on hosts."""
