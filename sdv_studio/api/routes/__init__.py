"""One router per resource: devices, packages, deployments (and their WebSocket)."""
