"""The staged-release conditions (sdvagent/schedule.py): idle conditions on VSS values and time windows."""

from __future__ import annotations

import pytest

from sdv_studio.agent.sdvagent.errors import BadRequest
from sdv_studio.agent.sdvagent.schedule import (
    condition_holds,
    condition_paths,
    in_window,
    parse_condition,
    parse_when,
    parse_window,
)


@pytest.mark.parametrize(("condition", "values", "holds"), [
    ("Vehicle.Speed == 0", {"Vehicle.Speed": 0.0}, True),
    ("Vehicle.Speed == 0", {"Vehicle.Speed": 0}, True),  # an int32 signal
    ("Vehicle.Speed == 0", {"Vehicle.Speed": 50.0}, False),
    ("Vehicle.Speed == 0", {"Vehicle.Speed": None}, False),  # no value yet
    ("Vehicle.Speed == 0", {}, False),
    ("Vehicle.Speed < 0.5", {"Vehicle.Speed": 0.2}, True),
    ("Vehicle.Speed<=0.5", {"Vehicle.Speed": 0.5}, True),
    ("Vehicle.Speed > 1e1", {"Vehicle.Speed": 10.5}, True),
    ("Vehicle.Speed >= -1", {"Vehicle.Speed": -2}, False),
    ("Vehicle.Speed != 0", {"Vehicle.Speed": 3}, True),
    ("Vehicle.Speed == 0", {"Vehicle.Speed": "0"}, False),  # another kind never compares equal
    ("Vehicle.Cabin.DogMode == true", {"Vehicle.Cabin.DogMode": True}, True),
    ("Vehicle.Cabin.DogMode == false", {"Vehicle.Cabin.DogMode": True}, False),
    ("Vehicle.Cabin.DogMode == 1", {"Vehicle.Cabin.DogMode": True}, False),
    ("Vehicle.Powertrain.Transmission.SelectedGear == 0", {"Vehicle.Powertrain.Transmission.SelectedGear": 0}, True),
    ('Vehicle.VehicleIdentification.VIN == "W0L000"', {"Vehicle.VehicleIdentification.VIN": "W0L000"}, True),
    ("Vehicle.VehicleIdentification.VIN != 'X'", {"Vehicle.VehicleIdentification.VIN": "W0L000"}, True),
    ("Vehicle.Speed == 0 and Vehicle.Cabin.DogMode == false",
     {"Vehicle.Speed": 0.0, "Vehicle.Cabin.DogMode": False}, True),
    ("Vehicle.Speed == 0 and Vehicle.Cabin.DogMode == false",
     {"Vehicle.Speed": 0.0, "Vehicle.Cabin.DogMode": True}, False),
])
def test_conditions_hold_for_the_values_they_describe(condition: str, values: dict, holds: bool) -> None:
    assert condition_holds(parse_condition(condition), values) is holds


def test_the_paths_to_read_are_each_signal_once() -> None:
    parsed = parse_condition("Vehicle.Speed > 0 and Vehicle.Speed < 3 and Vehicle.Cabin.DogMode == true")
    assert condition_paths(parsed) == ["Vehicle.Cabin.DogMode", "Vehicle.Speed"]


@pytest.mark.parametrize(("condition", "error"), [
    ("", 'idle: must be a condition such as "Vehicle.Speed == 0"'),
    ("Vehicle.Speed", "idle: 'Vehicle.Speed': expected PATH OP VALUE with OP one of ==, !=, <=, >=, <, >, "
                      "e.g. Vehicle.Speed == 0"),
    ("Vehicle.Speed = 0", "idle: 'Vehicle.Speed = 0': expected PATH OP VALUE"),
    ("Vehicle.Speed ==", "idle: 'Vehicle.Speed ==': expected PATH OP VALUE"),
    ("Speed == 0", "idle: Speed: not a VSS signal path (Vehicle.Branch.Signal)"),
    ("Vehicle..Speed == 0", "idle: Vehicle..Speed: not a VSS signal path"),
    ("Vehicle.Speed == fast", "idle: Vehicle.Speed: the value to compare with must be a number, true, false or a "
                              "quoted string, got 'fast'"),
    ("Vehicle.Cabin.DogMode < true", "idle: Vehicle.Cabin.DogMode: < compares numbers only"),
    ("Vehicle.Speed == 0 or Vehicle.Speed == 1", "idle: Vehicle.Speed: the value to compare with must be a number, "
                                                 "true, false or a quoted string, got '0 or Vehicle.Speed == 1'"),
])
def test_a_bad_condition_is_refused_naming_the_field_and_the_part(condition: str, error: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_condition(condition)
    assert str(refused.value).startswith(error)


@pytest.mark.parametrize(("window", "minute", "inside"), [
    ("02:00-04:00", 2 * 60, True),  # the start is inside
    ("02:00-04:00", 3 * 60 + 59, True),
    ("02:00-04:00", 4 * 60, False),  # the end is not
    ("02:00-04:00", 1 * 60 + 59, False),
    ("23:30-00:30", 23 * 60 + 45, True),  # across midnight
    ("23:30-00:30", 10, True),
    ("23:30-00:30", 30, False),
    ("23:30-00:30", 12 * 60, False),
    ("9:05-9:06", 9 * 60 + 5, True),
])
def test_time_windows_hold_between_start_and_end(window: str, minute: int, inside: bool) -> None:
    assert in_window(parse_window(window), minute) is inside


@pytest.mark.parametrize(("window", "error"), [
    ("02:00", "at: must be a time window HH:MM-HH:MM, e.g. 02:00-04:00"),
    ("2-4", "at: must be a time window HH:MM-HH:MM"),
    ("24:00-04:00", "at: 24:00-04:00: hours go from 00 to 23 and minutes from 00 to 59"),
    ("02:60-04:00", "at: 02:60-04:00: hours go from 00 to 23"),
    ("02:00-02:00", "at: 02:00-02:00: the window starts and ends at the same time"),
])
def test_a_bad_window_is_refused_naming_the_field(window: str, error: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_window(window)
    assert str(refused.value).startswith(error)


def test_a_stage_request_says_one_of_idle_or_window_normalised() -> None:
    assert parse_when({"idle": "Vehicle.Speed==0"}) == {"idle": "Vehicle.Speed == 0"}
    assert parse_when({"window": "2:00-4:00"}) == {"window": "02:00-04:00"}
    for bad in ({}, {"idle": "Vehicle.Speed == 0", "window": "02:00-04:00"}, "Vehicle.Speed == 0"):
        with pytest.raises(BadRequest, match=r"^when: give exactly one of idle"):
            parse_when(bad)
    with pytest.raises(BadRequest, match=r"^when\.idle: Speed: not a VSS signal path"):
        parse_when({"idle": "Speed == 0"})
