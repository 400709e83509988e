"""What pages share: the state, the engines, the task group and the settings."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sdv_studio.gui.adapters import Engines
from sdv_studio.gui.running_tasks import RunningTasks
from sdv_studio.gui.settings import Settings
from sdv_studio.gui.state import DeploymentState


@dataclass
class Context:
    state: DeploymentState
    engines: Engines
    tasks: RunningTasks
    settings: Settings

    def run(self, coro: Coroutine[Any, Any, Any], on_error: Callable[[BaseException], None] | None = None,
            name: str | None = None, background: bool = False) -> Any:
        return self.tasks.start(coro, on_error, name, background)
