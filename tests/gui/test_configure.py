"""Configure: the packager's rules shown on the fields and syntax errors at their line, as you type."""

from __future__ import annotations

import json
from pathlib import Path

from sdv_studio.gui.state import Step


def test_defaults_are_the_playground_app_and_valid(window) -> None:  # type: ignore[no-untyped-def]
    page = window.page(Step.CONFIGURE)
    assert window.windowTitle() == "SDV Studio"
    assert "from sdv.vehicle_app import VehicleApp" in page.editor.toPlainText()
    assert "Vehicle.Body.Lights.Beam.Low.IsOn" in page.editor.toPlainText()
    assert page.check()
    assert window.next_btn.isEnabled()


def test_field_errors_show_on_the_field_as_you_type(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = window.page(Step.CONFIGURE)
    qtbot.keyClicks(page.name, "X")  # capital letters are not allowed
    qtbot.waitUntil(lambda: page.fields["name"].error.isVisible(), timeout=2000)
    assert page.fields["name"].error.text() == "must be lowercase letters, digits and hyphens"
    assert page.name.property("invalid") is True
    page.memory.setText("64MB")
    page.version.setText("1.0")
    qtbot.waitUntil(lambda: page.fields["memory"].error.isVisible(), timeout=2000)
    assert page.fields["memory"].error.text() == "must be at least 128MB"
    assert "semantic version" in page.fields["version"].error.text()
    window.next_btn.click()
    assert window.ctx.state.current_step is Step.CONFIGURE  # Next is guarded
    assert page.name.hasFocus()  # and takes you to the first problem
    page.name.setText("low-beam")
    page.memory.setText("256MB")
    page.version.setText("1.2.3")
    qtbot.waitUntil(lambda: not page.fields["memory"].error.isVisible(), timeout=2000)
    assert not page.fields["name"].error.isVisible()
    assert page.name.property("invalid") is False


def test_syntax_error_marked_at_its_line(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = window.page(Step.CONFIGURE)
    page.editor.setPlainText("import asyncio\n\nasync def main(:\n    pass\n")
    qtbot.waitUntil(lambda: page.editor.error_line == 3, timeout=2000)
    assert page.code_status.isVisible()
    assert page.code_status.text().startswith("Line 3, column ")
    assert len(page.editor.extraSelections()) == 2  # the line and a wave under the offending part
    window.next_btn.click()
    assert window.ctx.state.current_step is Step.CONFIGURE
    assert page.editor.textCursor().blockNumber() == 2  # the cursor jumped to the error
    page.editor.setPlainText("import asyncio\n")
    qtbot.waitUntil(lambda: page.editor.error_line == 0, timeout=2000)
    assert not page.code_status.isVisible()


def test_open_folder_and_playground_export(window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = window.page(Step.CONFIGURE)
    project = tmp_path / "Smart Wipers"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('wipers')\n")
    assert page.load_path(project)
    assert page.editor.toPlainText() == "print('wipers')\n"
    assert page.name.text() == "smart-wipers"
    assert page.source_label.text() == "src/main.py"
    export = tmp_path / "prototype.json"
    export.write_text(json.dumps({"name": "Door Welcome", "code": "print('welcome')\n"}))
    assert page.load_path(export)
    assert page.editor.toPlainText() == "print('welcome')\n"
    assert "playground" in page.source_kind.text()
    assert not page.load_path(tmp_path / "missing.py")
    assert "no such file" in page.code_status.text()


def test_paste_replaces_the_app(window, qapp) -> None:  # type: ignore[no-untyped-def]
    page = window.page(Step.CONFIGURE)
    qapp.clipboard().setText("print('pasted')\n")
    page.paste_btn.click()
    assert page.editor.toPlainText() == "print('pasted')\n"


def test_local_id_matches_the_engine() -> None:
    from sdv_studio.core.deploy.agent_link.local_target import LOCAL_ID
    from sdv_studio.gui.adapters import discovery

    assert discovery.LOCAL_ID == LOCAL_ID


def test_window_modules_leave_the_engines_unloaded() -> None:
    """Launch speed: the window's imports must not pull in SSH, Docker or gRPC."""
    import subprocess
    import sys

    code = ("import sys; import sdv_studio.gui.window, sdv_studio.gui.adapters; "
            "from sdv_studio.gui.adapters import HEAVY_MODULES; "
            "print([m for m in (*HEAVY_MODULES[1:], 'paramiko', 'docker', 'grpc') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
