"""The local REST API over the core."""
