from __future__ import annotations

import json

import pytest

from sdv_studio.core.handoff.request import MAX_BODY_BYTES, MAX_CODE_BYTES, HandoffError, parse_handoff

ORIGIN = "https://digital.auto"


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_a_prototype_is_taken_as_sent() -> None:
    code = "from sdv.vehicle_app import VehicleApp\n\nprint('héllo')\n"
    handoff = parse_handoff(body(pythonCode=code, prototypeName=" Smart Wipers ", vssVersion="v4.0",
                                 extra="ignored"), ORIGIN)
    assert (handoff.code, handoff.name, handoff.vss_version, handoff.origin) == (code, "Smart Wipers", "4.0", ORIGIN)
    assert handoff.syntax_problems() == []


def test_a_syntax_error_is_reported_at_its_line() -> None:
    handoff = parse_handoff(body(pythonCode="x = 1\ndef broken(:\n", prototypeName="p"), ORIGIN)
    assert handoff.syntax_problems()[0].startswith("main.py:2:")


@pytest.mark.parametrize(("raw", "expected"), [
    (b"not json", "body: not JSON"),
    (b"[1]", "body: must be a JSON object"),
    (body(prototypeName="p"), "pythonCode: required"),
    (body(pythonCode="  ", prototypeName="p"), "pythonCode: required"),
    (body(pythonCode=1, prototypeName="p"), "pythonCode: required"),
    (body(pythonCode="pass"), "prototypeName: required"),
    (body(pythonCode="pass", prototypeName="a\nb"), "prototypeName: at most"),
    (body(pythonCode="pass", prototypeName="x" * 201), "prototypeName: at most"),
    (body(pythonCode="pass", prototypeName="p", vssVersion="latest"), "vssVersion: a VSS release"),
    (body(pythonCode="pass", prototypeName="p", vssVersion=4), "vssVersion: a VSS release"),
    (body(pythonCode="#" * (MAX_CODE_BYTES + 1), prototypeName="p"), "pythonCode: larger than"),
    (b" " * (MAX_BODY_BYTES + 1), "body: larger than"),
])
def test_what_cannot_be_shown_names_its_field(raw: bytes, expected: str) -> None:
    with pytest.raises(HandoffError) as caught:
        parse_handoff(raw, ORIGIN)
    assert caught.value.problems[0].startswith(expected), caught.value.problems


def test_every_problem_at_once() -> None:
    with pytest.raises(HandoffError) as caught:
        parse_handoff(body(vssVersion="x"), ORIGIN)
    assert [p.split(":")[0] for p in caught.value.problems] == ["pythonCode", "prototypeName", "vssVersion"]
