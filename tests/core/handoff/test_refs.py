from __future__ import annotations

from sdv_studio.core.handoff.refs import MAX_HELD, HeldHandoffs
from sdv_studio.core.handoff.request import Handoff

HANDOFF = Handoff("pass", "p", "https://digital.auto")


def test_a_reference_is_taken_once() -> None:
    held = HeldHandoffs()
    ref = held.put(HANDOFF)
    assert held.take(ref) == HANDOFF
    assert held.take(ref) is None
    assert held.take("unknown") is None


def test_references_expire_and_only_a_few_are_held() -> None:
    now = [0.0]
    held = HeldHandoffs(lifetime=10, clock=lambda: now[0])
    first = held.put(HANDOFF)
    now[0] = 10.0
    assert held.take(first) is None
    refs = [held.put(HANDOFF) for _ in range(MAX_HELD + 1)]
    assert held.take(refs[0]) is None  # the oldest made room
    assert all(held.take(ref) == HANDOFF for ref in refs[1:])
