"""A project tree given as files in memory reads as the same tree opened as a folder."""

from __future__ import annotations

import pytest

from sdv_studio.core.packaging.sources import SourceError, app_prefix, load_folder, source_from_files
from tests.locations import APPS, text_tree


def as_bytes(tree: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode("utf-8") for path, text in tree.items()}


@pytest.mark.parametrize("project", ["velocitas_template_root", "velocitas_project", "velocitas_dogmode"])
def test_a_tree_reads_as_its_folder(project: str) -> None:
    folder = load_folder(APPS / project)
    tree = source_from_files(as_bytes(text_tree(APPS / project)), project, kind="folder")
    assert tree.files == folder.files
    assert (tree.entry_point, tree.name_hint, tree.requirements, tree.requirement_origins, tree.notes,
            tree.declared_signals) == (folder.entry_point, folder.name_hint, folder.requirements,
                                       folder.requirement_origins, folder.notes, folder.declared_signals)


def test_the_velocitas_app_folder_is_the_app() -> None:
    tree = as_bytes(text_tree(APPS / "velocitas_template_root"))
    source = source_from_files(tree, "prototype")
    assert app_prefix(tree) == "app/"
    assert (source.kind, source.entry_point, source.name_hint, source.vss_hint) == \
        ("playground", "src/main.py", "SampleApp", "3.0")
    assert not any(path.startswith(("tests/", ".devcontainer/")) for path in source.files)


def test_a_named_entry_point_outside_app_makes_the_whole_tree_the_app() -> None:
    files = {"app/src/main.py": b"print(1)\n", "tools/run.py": b"print(2)\n"}
    assert source_from_files(files, "p").entry_point == "src/main.py"
    whole = source_from_files(files, "p", entry="tools/run.py")
    assert (whole.entry_point, sorted(whole.files)) == ("tools/run.py", ["app/src/main.py", "tools/run.py"])


@pytest.mark.parametrize(("files", "entry", "expected"), [
    ({"../main.py": b""}, None, "files: ../main.py: must be inside the project"),
    ({"/etc/main.py": b""}, None, "files: /etc/main.py: must be inside the project (absolute path)"),
    ({"lib/util.py": b""}, None, "files: no main.py or src/main.py in the project"),
    ({"main.py": b""}, "run.py", "files: the entry point run.py is not one of its .py files"),
    ({"main.py": b"", "tests/test_x.py": b""}, "tests/test_x.py",
     "files: the entry point tests/test_x.py is test code, which is not packaged"),
    ({"main.py": b"", "AppManifest.json": b"{"}, None, "AppManifest.json:1:2: "),
])
def test_what_cannot_be_opened_names_the_file(files: dict[str, bytes], entry: str | None, expected: str) -> None:
    with pytest.raises(SourceError) as caught:
        source_from_files(files, "p", entry=entry)
    assert caught.value.problems[0].startswith(expected), caught.value.problems
