from __future__ import annotations

from sdv_studio.core.handoff.pending import MAX_PENDING, PendingHandoffs
from sdv_studio.core.handoff.request import Handoff


def handoff(name: str, origin: str) -> Handoff:
    return Handoff("pass", name, origin)


def test_waiting_hand_offs_come_out_oldest_first() -> None:
    pending = PendingHandoffs()
    assert pending.take() is None
    assert not pending.put(handoff("a", "https://one"))
    assert not pending.put(handoff("b", "https://two"))
    assert [pending.take(), pending.take(), pending.take()] == [handoff("a", "https://one"),
                                                                 handoff("b", "https://two"), None]


def test_a_page_handing_over_again_replaces_its_waiting_one_and_goes_last() -> None:
    pending = PendingHandoffs()
    pending.put(handoff("old", "https://one"))
    pending.put(handoff("other", "https://two"))
    assert pending.put(handoff("new", "https://one"))
    assert len(pending) == 2
    assert [pending.take(), pending.take()] == [handoff("other", "https://two"), handoff("new", "https://one")]


def test_when_too_many_pages_wait_the_oldest_is_dropped() -> None:
    pending = PendingHandoffs()
    for i in range(MAX_PENDING + 1):
        pending.put(handoff(str(i), f"https://page{i}"))
    assert len(pending) == MAX_PENDING
    assert pending.take() == handoff("1", "https://page1")
