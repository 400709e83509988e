from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from sdv_studio.core.handoff.links import LINK_ORIGIN, RefLink, build_link, build_tree_link, is_link, parse_link
from sdv_studio.core.handoff.request import Handoff, HandoffError

CODE = 'import time\n\n\ndef main():\n    print("tick", flush=True)  # ünïcode\n'


def test_a_built_link_carries_the_exact_code_and_name() -> None:
    link = build_link("Smart Wipers", CODE, "4.0")
    assert is_link(link) and "\n" not in link and " " not in link
    assert parse_link(link) == Handoff(CODE, "Smart Wipers", LINK_ORIGIN, "4.0")


def test_percent_encoded_code_is_read_as_text() -> None:
    assert parse_link(f"sdv-studio://open?name=p&code={quote(CODE)}").code == CODE
    # Only base64url characters, yet not base64url of UTF-8 text: plain code after all.
    assert parse_link("sdv-studio://open?name=p&code=pass").code == "pass"


def test_a_tree_travels_in_a_link() -> None:
    files = {"app/src/main.py": CODE, "app/src/lib/util.py": "X = 'ü'\n", "app/requirements.txt": "aiohttp\n"}
    handoff = parse_link(build_tree_link("Smart Wipers", files, vss_version="4.0"))
    assert (handoff.files, handoff.entry, handoff.code, handoff.name, handoff.origin, handoff.vss_version) == \
        (files, "app/src/main.py", CODE, "Smart Wipers", LINK_ORIGIN, "4.0")
    named = parse_link(build_tree_link("p", files, entry="app/src/lib/util.py"))
    assert (named.entry, named.code) == ("app/src/lib/util.py", "X = 'ü'\n")
    # percent-encoded JSON text works as well as base64url
    assert parse_link(f"sdv-studio://open?name=p&files={quote(json.dumps(files))}").files == files


def test_a_reference_is_returned_for_the_app_to_look_up() -> None:
    assert parse_link("sdv-studio://open?ref=" + "a" * 32) == RefLink("a" * 32)


@pytest.mark.parametrize(("url", "expected"), [
    ("sdv-studio://delete?name=p&code=x", "link: expected sdv-studio://open"),
    ("https://open?name=p&code=x", "link: expected"),
    ("sdv-studio://open?name=p", "code: required"),
    ("sdv-studio://open?code=cGFzcw", "name: required"),
    ("sdv-studio://open?name=p&code=x&vss=new", "vss: a VSS release"),
    ("sdv-studio://open?name=p&name=q&code=x", "link: name given more than once"),
    ("sdv-studio://open?ref=../../etc", "ref: not a hand-off reference"),
    ("sdv-studio://open?name=p&files=" + quote('{"main.py": "x"'), "files: not the JSON object"),
    ("sdv-studio://open?name=p&files=" + quote('{"../main.py": "x"}'), "files: ../main.py: must be inside"),
    ("sdv-studio://open?name=p&code=x&entry=main.py", "entry: only with files"),
    ("sdv-studio://open?name=p&files=" + quote('{"main.py": "x"}') + "&entry=run.py", "entry: must name one"),
    ("sdv-studio://open?name=p&code=" + "x" * 2_000_000, "link: longer than"),
])
def test_a_bad_link_says_which_part(url: str, expected: str) -> None:
    with pytest.raises(HandoffError) as caught:
        parse_link(url)
    assert caught.value.problems[0].startswith(expected), caught.value.problems
