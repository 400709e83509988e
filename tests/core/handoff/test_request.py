from __future__ import annotations

import json

import pytest

from sdv_studio.core.handoff.request import (
    MAX_BODY_BYTES,
    MAX_CODE_BYTES,
    MAX_TREE_FILES,
    HandoffError,
    parse_handoff,
)
from sdv_studio.core.packaging.sources import load_folder
from tests.locations import APPS, text_tree

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
    (body(pythonCode="\ud800", prototypeName="p"), "pythonCode: not Unicode text"),
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


# -- multi-file prototypes ------------------------------------------------------------------------

VELOCITAS = APPS / "velocitas_template_root"


def test_a_tree_opens_as_its_folder_would() -> None:
    tree = text_tree(VELOCITAS)
    handoff = parse_handoff(body(files=tree, prototypeName="Speed App", vssVersion="4.0"), ORIGIN)
    assert (handoff.files, handoff.entry, handoff.origin) == (tree, "app/src/main.py", ORIGIN)
    assert handoff.code == tree["app/src/main.py"]  # what the editor shows
    source, folder = handoff.source(), load_folder(VELOCITAS)
    assert (source.files, source.entry_point, source.requirement_lines(), source.notes) == \
        (folder.files, folder.entry_point, folder.requirement_lines(), folder.notes)
    assert (folder.name_hint, source.name_hint) == ("SampleApp", "Speed App")  # the page's name, not the manifest's


def test_a_named_entry_point_is_taken() -> None:
    files = {"main.py": "print(1)\n", "tools/run.py": "import helpers\n", "tools/helpers.py": "X = 1\n"}
    handoff = parse_handoff(body(files=files, entryPoint="tools/run.py", prototypeName="p"), ORIGIN)
    assert (handoff.entry, handoff.code, handoff.source().entry_point) == ("tools/run.py", "import helpers\n",
                                                                           "tools/run.py")


def test_syntax_errors_in_a_tree_are_reported_at_file_and_line() -> None:
    files = {"src/main.py": "from lib import f\n", "src/lib.py": "def f(:\n", "src/ok.py": "x = 1\n"}
    handoff = parse_handoff(body(files=files, prototypeName="p"), ORIGIN)
    assert [p.split(": ")[0] for p in handoff.syntax_problems()] == ["src/lib.py:1:7"]


@pytest.mark.parametrize(("files", "extra", "expected"), [
    ({"../main.py": "x"}, {}, "files: ../main.py: must be inside the project"),
    ({"/abs/main.py": "x"}, {}, "files: /abs/main.py: must be inside the project (absolute path)"),
    ({"C:/main.py": "x"}, {}, "files: C:/main.py: must be inside the project (absolute path)"),
    ({"src\\main.py": "x"}, {}, "files: src\\main.py: is not a valid relative path"),
    ({"main.py": 1}, {}, "files: main.py: must be the file's text"),
    ({"main.py": "#" * (MAX_CODE_BYTES + 1)}, {}, "files: main.py: larger than 1024 KB"),
    ({f"m{i}.py": "#" * (MAX_CODE_BYTES - 1) for i in range(3)}, {}, "files: larger than 2048 KB in total"),
    ({f"m{i}.py": "" for i in range(MAX_TREE_FILES + 1)}, {}, f"files: at most {MAX_TREE_FILES} files"),
    ({}, {}, "files: an object of file paths"),
    (["main.py"], {}, "files: an object of file paths"),
    ({"main.py": "x"}, {"pythonCode": "x"}, "files: send either pythonCode or files, not both"),
    ({"main.py": "x"}, {"entryPoint": "run.py"}, "entryPoint: must name one of the .py files in files"),
    ({"lib/util.py": "x", "lib/more.py": "y"}, {}, "files: no main.py or src/main.py in the project"),
    ({"main.py": "x", "AppManifest.json": "{"}, {}, "AppManifest.json:1:2: "),
])
def test_a_tree_that_cannot_be_shown_names_the_file(files: object, extra: dict[str, object], expected: str) -> None:
    with pytest.raises(HandoffError) as caught:
        parse_handoff(body(files=files, prototypeName="p", **extra), ORIGIN)
    assert caught.value.problems[0].startswith(expected), caught.value.problems


def test_an_entry_point_needs_a_tree() -> None:
    with pytest.raises(HandoffError) as caught:
        parse_handoff(body(pythonCode="pass", entryPoint="main.py", prototypeName="p"), ORIGIN)
    assert caught.value.problems == ["entryPoint: only with files"]
