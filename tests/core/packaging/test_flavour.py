"""Telling complete programs from fragments, with KUKSA-documentation and Velocitas code as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.core.packaging.flavour import Flavour, Kind, classify_entry, program_start

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"
DOCS = APPS / "kuksa_docs"


def classify(path: Path) -> tuple[Kind, Flavour, str]:
    entry = classify_entry({"main.py": path.read_text()}, "main.py")
    return entry.kind, entry.flavour, entry.reason


def test_sync_client_block_with_its_own_loop_runs_as_is() -> None:
    kind, flavour, reason = classify(DOCS / "sync_loop.py")
    assert (kind, flavour) == (Kind.PROGRAM, Flavour.KUKSA)
    assert reason == ("kuksa program that runs its own loop (line 7: `with VSSClient(...)` at module level): "
                      "run as is under the launcher")


def test_sync_subscription_loop_runs_as_is() -> None:
    kind, _, reason = classify(DOCS / "sync_subscribe.py")
    assert kind is Kind.PROGRAM and "line 4: `with VSSClient(...)` at module level" in reason


def test_asyncio_run_starts_itself() -> None:
    kind, flavour, reason = classify(DOCS / "aio_run.py")
    assert (kind, flavour) == (Kind.PROGRAM, Flavour.KUKSA)
    assert "starts itself (line 17: `asyncio.run(main())`)" in reason


def test_main_guard_starts_itself() -> None:
    kind, _, reason = classify(DOCS / "main_guard.py")
    assert kind is Kind.PROGRAM and 'line 20: `if __name__ == "__main__":`' in reason


def test_setup_only_is_a_fragment_even_with_a_with_block() -> None:
    kind, flavour, reason = classify(DOCS / "setup_only.py")
    assert (kind, flavour) == (Kind.FRAGMENT, Flavour.KUKSA)
    assert "only definitions and set-up" in reason and "template" in reason


def test_template_hooks_are_a_fragment() -> None:
    kind, _, reason = classify(APPS / "kuksa_fragment.py")
    assert kind is Kind.FRAGMENT and "defines the template hooks on_start, subscribe_to_signals" in reason


def test_velocitas_vehicle_app() -> None:
    kind, flavour, reason = classify(APPS / "velocitas_project" / "app" / "src" / "main.py")
    assert (kind, flavour) == (Kind.VEHICLE_APP, Flavour.VELOCITAS)
    assert reason.startswith("Velocitas VehicleApp `SampleApp` (line 19) started at line 44 by "
                             "`LOOP.run_until_complete(main())`")


def test_playground_app() -> None:
    kind, flavour, reason = classify(APPS / "playground_default.py")
    assert (kind, flavour) == (Kind.PLAYGROUND, Flavour.VELOCITAS)
    assert reason.startswith("playground app (line 6: imports the SDK as `sdv`")


def test_velocitas_app_that_never_starts_says_so() -> None:
    code = "from velocitas_sdk.vehicle_app import VehicleApp\n\nclass A(VehicleApp):\n    pass\n"
    entry = classify_entry({"main.py": code}, "main.py")
    assert entry.kind is Kind.VEHICLE_APP and "never started" in entry.reason


@pytest.mark.parametrize(("code", "line", "what"), [
    ("import time\ntry:\n    while True:\n        time.sleep(1)\nexcept KeyboardInterrupt:\n    pass\n",
     3, "while True:"),
    ("async def main(): ...\nasync def go():\n    async with X() as x:\n        pass\nLOOP.run_forever()\n",
     5, "LOOP.run_forever()"),
])
def test_program_start_names_line_and_statement(code: str, line: int, what: str) -> None:
    start = program_start(code)
    assert start is not None and (start.line, start.what) == (line, what)


def test_with_block_without_a_loop_is_set_up() -> None:
    assert program_start("with open('x') as f:\n    DATA = f.read()\n") is None


def test_a_loop_over_a_literal_is_set_up_for_the_hooks() -> None:
    code = ("PATHS = []\nfor side in ('Left', 'Right'):\n    PATHS.append(f'Vehicle.Body.Mirrors.{side}.Tilt')\n"
            "for i in range(3):\n    pass\n\nasync def on_start(app):\n    print(PATHS)\n")
    entry = classify_entry({"main.py": code}, "main.py")
    assert entry.kind is Kind.FRAGMENT and "on_start" in entry.reason
