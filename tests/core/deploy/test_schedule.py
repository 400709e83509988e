"""Scheduled updates on the workstation (core/deploy/schedule.py): the options read into a Schedule, and
checked against the package's runtime and VSS catalogue, each problem naming the option."""

from __future__ import annotations

import json

import pytest

from sdv_studio.core.deploy.schedule import API_FIELDS, Schedule, check_schedule, parse_schedule
from sdv_studio.core.errors import InvalidInput

CATALOGUE = json.dumps({"Vehicle": {"type": "branch", "children": {
    "Speed": {"type": "sensor", "datatype": "float"},
    "Cabin": {"type": "branch", "children": {"DogMode": {"type": "actuator", "datatype": "boolean"}}},
    "VehicleIdentification": {"type": "branch", "children": {"VIN": {"type": "attribute", "datatype": "string"}}},
}}}).encode()
NATIVE = {"runtimeMode": "native"}


def test_the_options_read_into_a_schedule() -> None:
    assert parse_schedule(None, None, None) is None
    assert parse_schedule("idle", None, None) == Schedule(idle="Vehicle.Speed == 0")  # the default condition
    assert parse_schedule("idle", "Vehicle.Speed<1 and Vehicle.Cabin.DogMode==false", None) == Schedule(
        idle="Vehicle.Speed < 1 and Vehicle.Cabin.DogMode == false")
    assert parse_schedule(None, None, "2:00-4:30") == Schedule(window="02:00-04:30")
    assert Schedule(window="23:00-01:00").describe() == "between 23:00 and 01:00 (the device's local time)"
    assert Schedule(idle="Vehicle.Speed == 0").agent_when() == {"idle": "Vehicle.Speed == 0"}


def test_the_api_names_its_own_fields() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_schedule(None, "Vehicle.Speed == 0", None, API_FIELDS)
    assert refused.value.problems == ["idleCondition: only with when idle"]
    with pytest.raises(InvalidInput) as refused:
        parse_schedule("later", None, None, API_FIELDS)
    assert refused.value.problems == ["when: must be idle (or give at HH:MM-HH:MM), got 'later'"]


def test_the_condition_is_checked_against_the_packages_catalogue() -> None:
    good = Schedule(idle='Vehicle.Speed == 0 and Vehicle.Cabin.DogMode == true and Vehicle.VehicleIdentification.VIN '
                         '!= "X"')
    assert check_schedule(good, NATIVE, CATALOGUE) == []
    bad = Schedule(idle="Vehicle.Speed == true and Vehicle.Cabin.Dogmode == true and "
                        "Vehicle.VehicleIdentification.VIN == 1")
    assert check_schedule(bad, NATIVE, CATALOGUE) == [
        "--idle: Vehicle.Speed is a float signal, compared with a boolean",
        "--idle: Vehicle.Cabin.Dogmode: no such signal in the package's VSS catalogue",
        "--idle: Vehicle.VehicleIdentification.VIN is a string signal, compared with a number"]


def test_a_docker_package_cannot_be_staged() -> None:
    for schedule, option in ((Schedule(idle="Vehicle.Speed == 0"), "--when"), (Schedule(window="02:00-04:00"), "--at")):
        [problem] = check_schedule(schedule, {"runtimeMode": "docker"}, CATALOGUE)
        assert problem.startswith(f"{option}: scheduled updates are staged by the device agent, for native apps")
