"""The Complete step's scheduled updates: a staged device's row in the device's own words (the release it
holds staged, the condition, its last look at it; or how its start ended), and cancelling a staged
release there (what ``deploy --cancel-staged`` does)."""

from __future__ import annotations

import re

from sdv_studio.core.deploy.schedule import Schedule
from sdv_studio.gui.adapters.deployer import AppOnDevice, DeployEngine
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.qt import QtWidgets
from sdv_studio.gui.state import DeploymentResult
from sdv_studio.gui.widgets.common import button

_WINDOW = re.compile(r"\d\d:\d\d-\d\d:\d\d")


def starts(condition: str) -> str:
    """When a device starts a release it holds staged, from the condition it reports."""
    return Schedule(window=condition).describe() if _WINDOW.fullmatch(condition) else f"when {condition}"


def staged_deployment_text(result: DeploymentResult) -> str | None:
    """The Deployment cell of a device the deployment staged the release on, as the device last reported
    it; None for any other row."""
    if not result.staged:
        return None
    answer = result.on_device
    if answer is not None and answer.staged is not None:
        staged = answer.staged
        check = f"last check: {staged.last_check}" if staged.last_check else "not checked yet"
        return f"Staged {staged.version} — starts {starts(staged.condition)} · {check}"
    if answer is None or answer.status == AppOnDevice.UNREACHABLE:  # the record's word until the device's
        when = result.schedule.describe() if result.schedule else "later"
        return f"Staged — starts {when}"
    if answer.last_staged:
        return answer.last_staged[0].upper() + answer.last_staged[1:]
    return "No longer staged on the device (cancelled, or replaced by another deployment)"


def staged_now(answer: AppOnDevice | None) -> str:
    """The release a device reports staged, in full (the row's cell may cut it short)."""
    staged = answer.staged if answer is not None else None
    if staged is None:
        return ""
    return f"{staged.version} staged, starts {starts(staged.condition)}" + (
        f" (last check: {staged.last_check})" if staged.last_check else " (not checked yet)")


def all_deployed_text(app: str, results: list[DeploymentResult]) -> str:
    """Complete's banner when every device succeeded, the staged ones counted apart."""
    staged = sum(1 for r in results if r.staged)
    if not staged:
        return f"{app} deployed to every device."
    return (f"{app} deployed to every device: {len(results) - staged} started it, {staged} staged it and start"
            f"{'s' if staged == 1 else ''} it by {'itself' if staged == 1 else 'themselves'}.")


async def cancel_staged(deployer: DeployEngine, app: str, device: Device) -> str:
    """Cancels ``app``'s staged release on ``device``; the banner's words."""
    return f"{device.name}: {await deployer.cancel_staged(device, app)}."


class StagedActions(QtWidgets.QWidget):
    """"Cancel staged" for the selected device, shown while that device reports a staged release."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.cancel_btn = button("Cancel staged", "cancel", tip="Cancel the release staged on the selected "
                                 "device: it never starts there, and what runs is not touched")
        row.addStretch()
        row.addWidget(self.cancel_btn)
        self.hide()

    def show_for(self, result: DeploymentResult | None, free: bool) -> None:
        """Shown for a device that reports a staged release; enabled when nothing else is being done there."""
        staged = result.on_device.staged if result is not None and result.on_device is not None else None
        self.setVisible(staged is not None)
        self.cancel_btn.setEnabled(free)
        if staged is not None:
            self.cancel_btn.setAccessibleName(f"Cancel staged {staged.version}")
