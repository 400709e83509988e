"""The repository documents itself: nothing points outside it, and docs/interface.md keeps up with the CLI."""

from __future__ import annotations

import argparse
import re
import subprocess

from sdv_studio.cli import build_parser
from tests.locations import REPO

INTERFACE = REPO / "docs" / "interface.md"
# Tests and CI run beside the shared reference material; nothing else may depend on it.
MAY_NAME_SHARED = ("tests/", ".ci/")


def _repository_files() -> list[str]:
    """Tracked files and new ones not ignored: what a commit of this tree would hold."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=REPO, capture_output=True, check=True).stdout
    return [name for name in listing.decode().split("\0") if name and (REPO / name).is_file()]


Parsers = dict[tuple[str, ...], argparse.ArgumentParser]


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Parsers:
    """Every command and sub-command path (``("devices", "add")``) with its parser."""
    found: Parsers = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[(*prefix, name)] = sub
                found.update(_commands(sub, (*prefix, name)))
    return found


def test_no_file_outside_tests_and_ci_points_at_shared() -> None:
    files = _repository_files()
    assert "README.md" in files  # the listing works, so an empty result below means something
    offenders = [name for name in files if not name.startswith(MAY_NAME_SHARED)
                 and b"../shared" in (REPO / name).read_bytes()]
    assert offenders == [], f"these point outside the repository (../shared): {offenders}"


def test_every_command_is_in_the_interface_doc() -> None:
    text = INTERFACE.read_text(encoding="utf-8")
    commands = _commands(build_parser())
    assert ("deploy",) in commands and ("devices", "add") in commands  # the introspection finds them
    missing = []
    for path in commands:
        # Named in a code span that starts with the command line, e.g. `sdv-studio stop|start APP`.
        *parents, name = path
        pattern = r"`sdv-studio " + "".join(re.escape(p) + " " for p in parents) + r"[^`]*\b" + re.escape(name) + r"\b"
        if not re.search(pattern, text):
            missing.append(" ".join(path))
    assert missing == [], f"docs/interface.md does not name these commands: {missing}"


def test_every_option_is_in_the_interface_doc() -> None:
    text = INTERFACE.read_text(encoding="utf-8")
    parsers: Parsers = {("sdv-studio",): build_parser(), **_commands(build_parser())}
    missing = sorted({f"{' '.join(path)} {option}" for path, parser in parsers.items()
                      for action in parser._actions for option in action.option_strings
                      if option.startswith("--") and option != "--help"
                      and not re.search(re.escape(option) + r"(?![\w-])", text)})
    assert missing == [], f"docs/interface.md does not name these options: {missing}"
