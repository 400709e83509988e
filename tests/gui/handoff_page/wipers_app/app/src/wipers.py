def wiping_mode(rain_intensity: int) -> str:
    """The wiping mode for a rain sensor's reading (0-100)."""
    return "RAIN_SENSOR" if rain_intensity > 20 else "OFF"
