"""--waves and --max-failed: cumulative reaches turned into wave sizes, and what is refused."""

from __future__ import annotations

import pytest

from sdv_studio.core.deploy.waves import MaxFailed, WavesInvalid, parse_max_failed, parse_waves, wave_sizes


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
