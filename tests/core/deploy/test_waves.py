"""--waves and --max-failed: cumulative reaches turned into wave sizes and plans, what is refused, and
when a wave has failed."""

from __future__ import annotations

import pytest

from sdv_studio.core.deploy.waves import (
    MaxFailed,
    WavePlan,
    WavesInvalid,
    parse_max_failed,
    parse_waves,
    wave_sizes,
)


@pytest.mark.parametrize(
    ("waves", "total", "sizes"),
    [
        ("1,25%,100%", 8, [1, 1, 6]),
        ("1,25%,100%", 6, [1, 1, 4]),  # 25% of 6 rounds up to 2 devices reached
        ("2,100%", 6, [2, 4]),
        ("1,10%", 6, [1, 5]),  # 10% of 6 reaches 1 again: no empty wave; the rest is the last wave
        ("50%", 5, [3, 2]),
        ("10", 3, [3]),  # a count beyond the devices reaches all of them
        ("1", 1, [1]),
    ],
)
def test_cumulative_waves_become_wave_sizes(waves: str, total: int, sizes: list[int]) -> None:
    assert wave_sizes(parse_waves(waves), total) == sizes
    assert sum(sizes) == total


def test_no_waves_is_one_wave_of_every_device() -> None:
    assert wave_sizes([], 6) == [6]


@pytest.mark.parametrize(
    ("waves", "message"),
    [
        ("0,100%", "--waves 0,100%: '0' is neither a count of devices (1 or more) nor a percentage"),
        ("1,0%", "--waves 1,0%: '0%' is neither"),
        ("1,150%", "--waves 1,150%: '150%' is neither"),
        ("1,,100%", "--waves 1,,100%: '' is neither"),
        ("one", "--waves one: 'one' is neither"),
        ("5,2", "--waves 5,2: '2' does not reach further than the wave before it"),
        ("50%,25%", "--waves 50%,25%: '25%' does not reach further"),
    ],
)
def test_unreadable_waves_name_the_option_and_the_item(waves: str, message: str) -> None:
    with pytest.raises(WavesInvalid) as raised:
        parse_waves(waves)
    assert str(raised.value).startswith(message)


def test_max_failed_is_a_count_or_a_percentage() -> None:
    assert parse_max_failed("0") == MaxFailed(count=0)
    assert parse_max_failed("3") == MaxFailed(count=3)
    assert parse_max_failed("12.5%") == MaxFailed(percent=12.5)
    assert (str(MaxFailed(count=2)), str(MaxFailed(percent=10.0))) == ("2", "10%")
    for bad in ("-1", "x", "101%", "1.5"):
        with pytest.raises(WavesInvalid, match=f"--max-failed {bad}: expected a count"):
            parse_max_failed(bad)


def test_the_api_names_its_own_fields_and_may_give_a_list() -> None:
    assert parse_waves([1, "25%", "100%"], "waves") == parse_waves("1,25%,100%")
    with pytest.raises(WavesInvalid, match=r"^waves 1,most: 'most' is neither"):
        parse_waves([1, "most"], "waves")
    with pytest.raises(WavesInvalid, match=r"^maxFailed 200%: expected a count"):
        parse_max_failed("200%", "maxFailed")
    assert parse_max_failed(2, "maxFailed") == MaxFailed(count=2)


def test_a_plan_splits_the_devices_in_the_order_given() -> None:
    devices = [f"d{i}" for i in range(1, 9)]
    assert WavePlan(parse_waves("1,25%,100%")).split(devices) == [["d1"], ["d2"], devices[2:]]
    assert WavePlan(parse_waves("1,100%")).split([]) == []


@pytest.mark.parametrize(("max_failed", "failed", "size", "exceeded"), [
    ("0", 0, 5, False),
    ("0", 1, 5, True),
    ("2", 2, 5, False),
    ("2", 3, 5, True),
    ("20%", 1, 5, False),  # exactly 20%: allowed
    ("20%", 2, 5, True),
    ("25%", 1, 3, True),  # 33% is more than 25%
    ("100%", 4, 4, False),
])
def test_a_wave_fails_when_more_than_max_failed_of_it_fail(max_failed: str, failed: int, size: int,
                                                           exceeded: bool) -> None:
    assert parse_max_failed(max_failed).exceeded(failed, size) is exceeded
