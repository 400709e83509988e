"""The Rollout card's start choice: what it takes is what ``deploy --when idle [--idle C]`` and ``--at`` take
(the core's parser and package checks), a problem is shown under the field it names and holds Next back,
a docker package is refused as the CLI refuses it, and the choice reaches the deployment; a staged
device's rows on Deploy and Complete say staged, and Cancel staged reaches the engine."""

from __future__ import annotations

import json

import pytest

from sdv_studio.core.deploy.schedule import Schedule
from sdv_studio.gui.pages.schedule_form import IDLE, NOW, WINDOW, ScheduleForm
from sdv_studio.gui.state import Step
from tests.gui.helpers import complete_row, configure_plain_app, go_to

CATALOGUE = json.dumps({"Vehicle": {"type": "branch", "children": {
    "Speed": {"type": "sensor", "datatype": "float"},
    "IsMoving": {"type": "sensor", "datatype": "boolean"}}}}).encode()
NATIVE = {"runtimeMode": "native"}
DOCKER = {"runtimeMode": "docker"}
DOCKER_REFUSED = "scheduled updates are staged by the device agent, for native apps; this package runs in docker"


@pytest.fixture
def form(qtbot, qt_loop) -> ScheduleForm:  # type: ignore[no-untyped-def]
    made = ScheduleForm()
    qtbot.addWidget(made)
    made.set_package(NATIVE, lambda: CATALOGUE)
    return made


@pytest.mark.parametrize(("choice", "text", "field", "says"), [
    (IDLE, "", "idle_field", "Idle condition: must be a condition such as \"Vehicle.Speed == 0\""),
    (IDLE, "Vehicle.Speed = 0", "idle_field", "Idle condition: 'Vehicle.Speed = 0': expected PATH OP VALUE"),
    (IDLE, "Vehicle.IsMoving < true", "idle_field", "Idle condition: Vehicle.IsMoving: < compares numbers only"),
    (IDLE, "Vehicle.Nope == 0", "idle_field",
     "Idle condition: Vehicle.Nope: no such signal in the package's VSS catalogue"),
    (IDLE, "Vehicle.Speed == false", "idle_field",
     "Idle condition: Vehicle.Speed is a float signal, compared with a boolean"),
    (WINDOW, "", "window_field", "Time window: must be a time window HH:MM-HH:MM, e.g. 02:00-04:00"),
    (WINDOW, "25:00-01:00", "window_field", "Time window: 25:00-01:00: hours go from 00 to 23"),
    (WINDOW, "02:00-02:00", "window_field", "Time window: 02:00-02:00: the window starts and ends at the same time"),
], ids=["empty", "operator", "bool-order", "unknown-signal", "wrong-kind", "no-window", "hour-25", "same-time"])
def test_a_bad_value_is_shown_under_the_field_it_names(form, choice: str, text: str, field: str,  # type: ignore[no-untyped-def]
                                                       says: str) -> None:
    form.start.setCurrentText(choice)
    (form.idle if choice == IDLE else form.time_window).setText(text)
    field = form.idle_field if field == "idle_field" else form.window_field
    assert field.error_text().startswith(says), field.error_text()
    assert form.errors() == [field.error_text()]


def test_each_choice_is_the_engines_schedule(form) -> None:  # type: ignore[no-untyped-def]
    assert form.schedule() is None and form.errors() == []
    assert not form.idle_field.isVisibleTo(form) and not form.window_field.isVisibleTo(form)
    form.start.setCurrentText(IDLE)
    assert form.idle.text() == "Vehicle.Speed == 0" and form.idle_field.isVisibleTo(form)
    assert form.schedule() == Schedule(idle="Vehicle.Speed == 0")
    form.idle.setText("  Vehicle.Speed<=3   and Vehicle.IsMoving == false ")
    assert form.schedule() == Schedule(idle="Vehicle.Speed <= 3 and Vehicle.IsMoving == false")
    form.start.setCurrentText(WINDOW)
    form.time_window.setText("23:00-01:00")
    assert form.schedule() == Schedule(window="23:00-01:00") and form.errors() == []
    assert "the device's local time" in form.note.text()

    again = ScheduleForm()
    again.show_schedule(Schedule(window="02:00-04:00"))
    assert (again.start.currentText(), again.schedule()) == (WINDOW, Schedule(window="02:00-04:00"))
    again.show_schedule(Schedule(idle="Vehicle.Speed < 1"))
    assert (again.start.currentText(), again.schedule()) == (IDLE, Schedule(idle="Vehicle.Speed < 1"))
    again.show_schedule(None)
    assert (again.start.currentText(), again.idle.text()) == (NOW, "Vehicle.Speed == 0")
    again.deleteLater()


def test_a_docker_package_is_refused_saying_why(form) -> None:  # type: ignore[no-untyped-def]
    form.set_package(DOCKER, lambda: CATALOGUE)
    assert form.errors() == []  # starting now is a docker package's way
    form.start.setCurrentText(IDLE)
    assert form.errors() == [f"Start: {DOCKER_REFUSED}"] and form.start_field.error_text() == f"Start: {DOCKER_REFUSED}"
    form.start.setCurrentText(WINDOW)
    form.time_window.setText("02:00-04:00")
    assert form.errors() == [f"Time window: {DOCKER_REFUSED}"]
    form.set_package(NATIVE, lambda: CATALOGUE)
    assert form.errors() == []


def test_a_bad_value_holds_next_back_and_the_schedule_reaches_the_deployment(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.KUKSA)
    kuksa = window.page(Step.KUKSA)
    qtbot.waitUntil(lambda: not kuksa.busy(), timeout=10_000)
    kuksa.schedule.start.setCurrentText(IDLE)
    kuksa.schedule.idle.setText("Vehicle.NoSuchSignal == 0")  # checked against the package's VSS 4.0 catalogue
    assert kuksa.schedule.idle_field.error_text() == ("Idle condition: Vehicle.NoSuchSignal: no such signal in the "
                                                      "package's VSS catalogue")
    assert not window.next_btn.isEnabled()
    kuksa.schedule.idle.setText("Vehicle.Speed == 0")
    assert window.next_btn.isEnabled()

    go_to(window, qtbot, Step.DEPLOY)
    assert window.ctx.state.schedule == Schedule(idle="Vehicle.Speed == 0")
    deploy = window.page(Step.DEPLOY)
    assert deploy.settings().schedule == Schedule(idle="Vehicle.Speed == 0")
    assert deploy.update_mode.text().endswith(" · staged")
    assert "staged: each device starts it when Vehicle.Speed == 0" in deploy.update_mode.toolTip()
    qtbot.waitUntil(deploy.is_complete, timeout=60_000)
    [result] = window.ctx.state.deployment_results.values()
    assert (result.status, result.staged) == ("success", True)
    assert deploy.table.item(0, 2).text() == "Staged — starts when Vehicle.Speed == 0"
    assert deploy.banner.text() == ("1 device staged the app, to start it when Vehicle.Speed == 0; until then, what "
                                    "ran before keeps running.")

    go_to(window, qtbot, Step.COMPLETE)
    complete = window.page(Step.COMPLETE)
    qtbot.waitUntil(lambda: result.on_device is not None, timeout=10_000)
    row = complete_row(complete, result.device.id)
    assert (row["On the device"], row["Version"]) == ("Running", "0.9.0")
    assert row["Deployment"].startswith("Staged 1.0.0 — starts when Vehicle.Speed == 0 · last check: "
                                        "Vehicle.Speed 48.6 at ")
    assert "1.0.0 staged, starts when Vehicle.Speed == 0 (last check: Vehicle.Speed 48.6 at " in complete.details.text()
    assert complete.staged.isVisibleTo(complete) and complete.staged.cancel_btn.isEnabled()
    complete.staged.cancel_btn.click()
    qtbot.waitUntil(lambda: not complete.staged.isVisibleTo(complete), timeout=10_000)
    assert engines.deployer.apps[result.device.id].staged is None
    assert complete.banner.text() == (f"{result.device.name}: cancelled heartbeat 1.0.0 (staged to start "
                                      "Vehicle.Speed == 0); what runs is unchanged.")
    assert complete_row(complete, result.device.id)["Deployment"] == ("No longer staged on the device (cancelled, or "
                                                                     "replaced by another deployment)")


def test_the_staged_device_is_counted_apart_from_those_that_run(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.pages.deploy import all_succeeded
    from sdv_studio.gui.state import DeploymentResult

    device = window.ctx.engines.discovery.this_computer()
    staged = DeploymentResult(device, status="success", schedule=Schedule(window="02:00-04:00"), staged=True)
    assert all_succeeded(3, []) == "All 3 devices are running the app."
    assert all_succeeded(3, [staged]) == ("2 devices running the app, 1 staged to start it between 02:00 and 04:00 "
                                          "(the device's local time).")
    assert all_succeeded(2, [staged, staged]).startswith("All 2 devices staged the app, to start it between 02:00")
