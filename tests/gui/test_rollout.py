"""The Kuksa step's Rollout card: what it takes is what --waves, --max-failed and --pause-between take,
a problem is shown under the field it names and holds Next back, and the choice reaches the deployment."""

from __future__ import annotations

import pytest

from sdv_studio.core.deploy.waves import MaxFailed, Reach, WavePlan
from sdv_studio.gui.pages.rollout import ALL_AT_ONCE, CANARY, CUSTOM, RolloutForm
from sdv_studio.gui.state import Step
from tests.gui.helpers import configure_plain_app, go_to


@pytest.fixture
def form(qtbot, qt_loop) -> RolloutForm:  # type: ignore[no-untyped-def]
    made = RolloutForm()
    qtbot.addWidget(made)
    made.set_devices(6)
    return made


@pytest.mark.parametrize(("custom", "max_failed", "pause", "field", "says"), [
    ("", "0", "0", "custom_field", "Waves: enter where each wave ends"),
    ("1,0", "0", "0", "custom_field", "Waves 1,0: '0' is neither a count of devices"),
    ("25%,10%", "0", "0", "custom_field", "Waves 25%,10%: '10%' does not reach further than the wave before it"),
    ("1,100%", "lots", "0", "max_failed_field", "Max failed lots: expected a count of devices (0 or more) or a "
                                                "percentage of the wave"),
    ("1,100%", "150%", "0", "max_failed_field", "Max failed 150%: expected"),
    ("1,100%", "0", "-5", "pause_field", "Pause -5: expected seconds between waves, 0 to 86400"),
    ("1,100%", "0", "soon", "pause_field", "Pause soon: expected seconds between waves"),
], ids=["empty", "zero", "shrinking", "word", "over-100%", "negative-pause", "word-pause"])
def test_a_bad_value_is_shown_under_the_field_it_names(form, custom: str, max_failed: str, pause: str,  # type: ignore[no-untyped-def]
                                                       field: str, says: str) -> None:
    form.preset.setCurrentText(CUSTOM)
    form.custom.setText(custom)
    form.max_failed.setText(max_failed)
    form.pause.setText(pause)
    assert getattr(form, field).error_text().startswith(says), getattr(form, field).error_text()
    assert form.errors() == [getattr(form, field).error_text()]
    assert form.preview.text() == ""


def test_all_at_once_is_no_plan_and_leaves_the_wave_fields_aside(form) -> None:  # type: ignore[no-untyped-def]
    form.max_failed.setText("lots")  # a wave's limit means nothing without waves
    form.preset.setCurrentText(ALL_AT_ONCE)
    assert form.plan() is None and form.errors() == []
    assert not form.max_failed.isEnabled() and not form.pause.isEnabled() and not form.rollback_wave.isEnabled()
    assert not form.custom_field.isVisibleTo(form)
    assert form.preview.text() == "6 devices, all at once."


def test_the_presets_and_a_custom_plan_become_the_engines_wave_plan(form) -> None:  # type: ignore[no-untyped-def]
    form.preset.setCurrentText(CANARY)
    assert form.plan() == WavePlan([Reach(count=1), Reach(percent=100.0)])
    assert form.preview.text() == "6 devices in 2 waves of 1, 5; any failure in a wave stops the rollout."

    form.preset.setCurrentText(CUSTOM)
    form.custom.setText(" 1, 25%, 100% ")
    form.max_failed.setText("20%")
    form.pause.setText("30")
    form.rollback_wave.setChecked(True)
    plan = WavePlan([Reach(count=1), Reach(percent=25.0), Reach(percent=100.0)], MaxFailed(percent=20.0), 30.0, True)
    assert form.plan() == plan
    assert form.preview.text() == "6 devices in 3 waves of 1, 1, 4; more than 20% failed in a wave stops the rollout."

    again = RolloutForm()
    again.show_plan(plan)
    assert again.plan() == plan and again.preset.currentText() == CUSTOM
    again.show_plan(WavePlan([Reach(count=1), Reach(percent=100.0)]))
    assert again.preset.currentText() == CANARY and again.max_failed.text() == "0" and again.pause.text() == "0"
    again.show_plan(None)
    assert again.preset.currentText() == ALL_AT_ONCE and not again.rollback_wave.isChecked()
    again.deleteLater()


def test_a_bad_value_holds_next_back_and_the_plan_reaches_the_deployment(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.KUKSA)
    kuksa = window.page(Step.KUKSA)
    qtbot.waitUntil(lambda: not kuksa.busy(), timeout=10_000)
    kuksa.rollout.preset.setCurrentText(CUSTOM)
    kuksa.rollout.custom.setText("1,1")
    assert not window.next_btn.isEnabled()
    assert kuksa.rollout.custom_field.error_text().startswith("Waves 1,1: '1' does not reach further")
    kuksa.rollout.custom.setText("1,100%")
    kuksa.rollout.max_failed.setText("1")
    assert window.next_btn.isEnabled()

    go_to(window, qtbot, Step.DEPLOY)
    plan = WavePlan([Reach(count=1), Reach(percent=100.0)], MaxFailed(count=1))
    assert window.ctx.state.wave_plan == plan
    deploy = window.page(Step.DEPLOY)
    assert deploy.settings().waves == plan
    qtbot.waitUntil(deploy.is_complete, timeout=60_000)
    run = next(iter(deploy._runs.values()))
    assert [(w.index, w.devices, w.status) for w in run.waves()] == [(1, ["local"], "completed")]
