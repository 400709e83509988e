"""Writes each task's wall time (first host start to last host end) as JSON lines to
$TASK_TIMER_OUT, so bench/deploy.py can show where Ansible spends its time."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_timer
type: aggregate
short_description: per-task wall times for bench/deploy.py
description: Writes each task's start and end (monotonic seconds) as JSON lines to $TASK_TIMER_OUT.
requirements: []
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[dict[str, object]] = []
        self._current: dict[str, object] | None = None

    def _close(self) -> None:
        if self._current is not None:
            self._current["end"] = time.monotonic()
            self._rows.append(self._current)
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = {"task": task.get_name(), "start": time.monotonic()}

    def v2_playbook_on_stats(self, stats):
        self._close()
        out = os.environ.get("TASK_TIMER_OUT")
        if out:
            with open(out, "w") as handle:
                for row in self._rows:
                    handle.write(json.dumps(row) + "\n")
