"""The wave plan: reading --waves and --max-failed, splitting devices, telling when a wave failed."""

from __future__ import annotations

import pytest

from sdv_studio.core.deploy.waves import Share, WavePlan, parse_max_failed, parse_waves
from sdv_studio.core.errors import InvalidInput

DEVICES = [f"d{i}" for i in range(1, 9)]


def test_waves_are_counts_and_percentages() -> None:
    assert parse_waves("1,25%,100%") == (Share(1), Share(25, percent=True), Share(100, percent=True))
    assert parse_waves(" 2 , 50% ") == (Share(2), Share(50, percent=True))
    assert parse_waves([1, "100%"], "waves") == (Share(1), Share(100, percent=True))


@pytest.mark.parametrize(("text", "problem"), [
    ("", "--waves: give at least one wave, e.g. 1,25%,100%"),
    ("1,,100%", "--waves: wave 2 is empty"),
    ("1,abc", "--waves: 'abc' is not a count (e.g. 2) or a percentage (e.g. 25%)"),
    ("-1", "--waves: '-1' is not a count (e.g. 2) or a percentage (e.g. 25%)"),
    ("1.5", "--waves: '1.5' is not a count (e.g. 2) or a percentage (e.g. 25%)"),
    ("0,100%", "--waves: wave 1 (0) has no devices"),
    ("1,150%", "--waves: 150% is more than 100%"),
    ("50%,25%", "--waves: wave 2 (25%) must end after wave 1 (50%): the waves are cumulative"),
    ("3,2", "--waves: wave 2 (2) must end after wave 1 (3): the waves are cumulative"),
])
def test_bad_waves_are_refused_naming_the_option(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_waves(text)
    assert caught.value.problems == [problem]


def test_the_option_named_is_the_callers() -> None:
    with pytest.raises(InvalidInput, match=r"^waves: wave 2 is empty$"):
        parse_waves(["1", " "], "waves")
    with pytest.raises(InvalidInput, match=r"^maxFailed: 'many' is not a count"):
        parse_max_failed("many", "maxFailed")


def test_max_failed_is_a_count_or_a_percentage() -> None:
    assert parse_max_failed("0") == Share(0)
    assert parse_max_failed(2) == Share(2)
    assert parse_max_failed("20%") == Share(20, percent=True)
    with pytest.raises(InvalidInput, match=r"^--max-failed: 101% is more than 100%$"):
        parse_max_failed("101%")


@pytest.mark.parametrize(("waves", "sizes"), [
    ("1,25%,100%", [1, 1, 6]),  # 25% of 8 is 2: the wave after the first device holds one more
    ("1,100%", [1, 7]),
    ("50%", [4, 4]),  # devices past the last wave form one more
    ("1,12%,100%", [1, 7]),  # 12% of 8 rounds up to 1: nothing new, so no wave
    ("3,2%", [3, 5]),  # a percentage that ends before a count's wave adds nothing
    ("20", [8]),  # a count past the fleet is the whole fleet
])
def test_devices_split_into_cumulative_waves_in_the_order_given(waves: str, sizes: list[int]) -> None:
    split = WavePlan(parse_waves(waves)).split(DEVICES)
    assert [len(w) for w in split] == sizes
    assert [d for wave in split for d in wave] == DEVICES


def test_no_devices_no_waves() -> None:
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
    plan = WavePlan(parse_waves("100%"), parse_max_failed(max_failed))
    assert plan.exceeded(failed, size) is exceeded
