"""The deployment stages with their progress values and messages (docs/interface.md, deploy)."""

from __future__ import annotations

from enum import Enum


class Stage(Enum):
    PENDING = ("pending", 0, "Waiting to start...")
    COMPATIBILITY = ("compatibility", 10, "Checking device compatibility...")
    TRANSFER = ("transfer", 30, "Transferring application package...")
    INSTALL = ("install", 60, "Installing application...")
    KUKSA = ("kuksa", 80, "Configuring Kuksa integration...")
    START = ("start", 90, "Starting application...")
    HEALTH = ("health", 95, "Performing health check...")
    DONE = ("done", 100, "Application running successfully")

    def __init__(self, key: str, progress: int, message: str) -> None:
        self.key = key
        self.progress = progress
        self.message = message
