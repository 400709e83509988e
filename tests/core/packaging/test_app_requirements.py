"""The app's own requirements kept as written, what SDV Studio adds, and failures named by origin."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from sdv_studio.core.packaging.app_requirements import (
    ADDED,
    app_requirements,
    provided_imports,
    unlisted_imports,
    with_origins,
)
from sdv_studio.core.packaging.flavour import Flavour
from sdv_studio.core.packaging.wheels import _pip_problems

# pip 25's own words for a clash: the explanation goes to stdout, the errors to stderr.
PIP_CLASH = """\
Collecting velocitas-sdk==0.15.4 (from -r requirements.txt (line 1))
Collecting grpcio==1.59.0 (from -r requirements.txt (line 2))

The conflict is caused by:
    The user requested grpcio==1.59.0
    velocitas-sdk 0.15.4 depends on grpcio==1.64.1
    opentelemetry-sdk 1.25.0 depends on typing-extensions>=3.7.4
    The user requested (constraint) typing-extensions<3

Additionally, some packages in these conflicts have no matching distributions available for your environment:
    grpcio

To fix this you could try to:
1. loosen the range of package versions you've specified

ERROR: Cannot install -r requirements.txt (line 1) and grpcio==1.59.0 because these package versions have \
conflicting dependencies.
ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/
"""


def names(lines: list[tuple[str, str]], flavour: Flavour, imports: frozenset[str] = frozenset()) -> dict[str, str]:
    result = app_requirements(lines, flavour, set(imports))
    assert not result.problems
    return {str(r): result.origins[r.name] for r in result.requirements}


def test_the_apps_sdk_pin_and_its_pins_are_kept() -> None:
    got = names([("velocitas-sdk==0.15.4", "app/requirements-velocitas.txt:1"),
                 ("grpcio==1.64.1", "app/requirements.txt:25")], Flavour.VELOCITAS)
    assert got == {"velocitas-sdk==0.15.4": "app/requirements-velocitas.txt:1",
                   "grpcio==1.64.1": "app/requirements.txt:25", "setuptools<82": ADDED}


@pytest.mark.parametrize(("line", "kept"), [("velocitas-sdk", "velocitas-sdk==0.15.7"),
                                            ("velocitas-sdk>=0.15", "velocitas-sdk>=0.15")])
def test_sdk_added_only_when_no_version_is_named(line: str, kept: str) -> None:
    assert kept in names([(line, "requirements.txt:1")], Flavour.VELOCITAS)


def test_sdk_links_and_the_old_sdk_name_are_not_installed() -> None:
    result = app_requirements([
        ("git+https://github.com/eclipse-velocitas/vehicle-app-python-sdk.git@v0.15.4", "requirements-links.txt:1"),
        ("sdv==0.1", "requirements.txt:1")], Flavour.VELOCITAS, set())
    assert [str(r) for r in result.requirements] == ["setuptools<82", "velocitas-sdk==0.15.7"]
    assert any(n.startswith("note: requirements.txt:1: `sdv` is the SDK's old name") for n in result.notes)


def test_kuksa_client_added_only_when_missing() -> None:
    assert names([], Flavour.KUKSA) == {"kuksa-client>=0.4": ADDED}
    assert names([("kuksa-client==0.5.1", "requirements.txt:3")], Flavour.KUKSA) == {
        "kuksa-client==0.5.1": "requirements.txt:3"}


def test_pkg_resources_import_brings_setuptools_unless_the_app_names_one() -> None:
    assert names([], Flavour.PLAIN, frozenset({"pkg_resources"})) == {"setuptools<82": ADDED}
    assert names([("setuptools==75.3.2", "requirements.txt:1")], Flavour.PLAIN, frozenset({"pkg_resources"})) == {
        "setuptools==75.3.2": "requirements.txt:1"}


def test_hashed_pip_compile_output_is_read() -> None:
    lines = ["grpcio==1.64.1 \\",
             "    --hash=sha256:03b43d0ccf99c557ec671c7dede64f023c7da9bb632ac65dbc57f166e4970040 \\",
             "    --hash=sha256:0a12ddb1678ebc6a84ec6b0487feac020ee2b1659cbe69b80f06dbffdb249122",
             "    # via velocitas-sdk"]
    assert names([(line, f"requirements.txt:{n}") for n, line in enumerate(lines, 1)], Flavour.PLAIN) == {
        "grpcio==1.64.1": "requirements.txt:1"}


def test_bad_lines_are_named_by_file_and_line() -> None:
    result = app_requirements([("grpcio===", "app/requirements.txt:7")], Flavour.PLAIN, set())
    assert result.problems and result.problems[0].startswith("app/requirements.txt:7: grpcio===: ")


def test_pip_clash_names_both_sides_and_their_origins() -> None:
    problems = _pip_problems(PIP_CLASH, "x86_64", "3.11")
    assert problems == [
        "requirements: on x86_64, grpcio==1.59.0 (requested) conflicts with grpcio==1.64.1 "
        "(required by velocitas-sdk 0.15.4)",
        "requirements: on x86_64, typing-extensions>=3.7.4 (required by opentelemetry-sdk 1.25.0) conflicts "
        "with typing-extensions<3 (requested)",
    ]
    origins = {"grpcio": "app/requirements.txt:12", "velocitas-sdk": ADDED}
    assert with_origins(problems, origins)[0] == (
        "requirements: on x86_64, grpcio==1.59.0 (app/requirements.txt:12) conflicts with grpcio==1.64.1 "
        "(required by velocitas-sdk 0.15.4, added by SDV Studio)")


def wheel(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


def test_import_names_come_from_the_wheels(tmp_path: Path) -> None:
    protobuf = wheel(tmp_path, "protobuf-5.29.5-py3-none-any.whl", {
        "google/protobuf/__init__.py": "", "protobuf-5.29.5.dist-info/RECORD": ""})
    oddly_named = wheel(tmp_path, "python_foo-1.0-py3-none-any.whl", {
        "foo_impl/__init__.py": "", "python_foo-1.0.dist-info/top_level.txt": "foo_impl\n"})
    assert provided_imports(protobuf) == {"google"}
    assert provided_imports(oddly_named) == {"foo_impl"}
    requirements = [Requirement("protobuf"), Requirement("python-foo")]
    imports = {"google", "foo_impl", "yaml", "requestz"}
    assert unlisted_imports(imports, requirements, [protobuf, oddly_named]) == ["requestz", "yaml"]
    # Without wheels, the documented map still knows protobuf's namespace.
    assert unlisted_imports({"google"}, [Requirement("protobuf")], []) == []
