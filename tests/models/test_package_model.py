"""SDVAppPackage / PackageRequest validation: every rule names its field; fuzzing finds no crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sdv_studio.models.package import (
    MAX_FILE_BYTES,
    MAX_FILES,
    PYTHONS,
    PackageRequest,
    ResourceLimits,
    SDVAppPackage,
    check_app_files,
    parse_cpu,
    parse_memory,
    validation_lines,
)


def problems(**fields: object) -> list[str]:
    data = {"name": "my-app", "code": "print('hi')\n", **fields}
    try:
        SDVAppPackage.model_validate(data)
    except ValidationError as exc:
        return validation_lines(exc)
    return []


def test_defaults_are_valid_and_camel_case() -> None:
    package = SDVAppPackage(name="my-app", code="print(1)\n")
    wire = package.to_json_dict()
    assert wire["runtimeMode"] == "native"
    assert wire["deployment"]["resourceLimits"] == {"memory": "512MB", "cpu": "0.5"}
    assert wire["kuksaConfig"]["brokerAutoDetect"] is True
    assert SDVAppPackage.model_validate(wire) == package


@pytest.mark.parametrize("name", ["a", "my-app", "app2", "x" * 63, "a-1-b"])
def test_good_names(name: str) -> None:
    assert problems(name=name) == []


@pytest.mark.parametrize("name", ["My-App", "my_app", "my app", "-app", "app-", "a--b", "ä"])
def test_bad_names(name: str) -> None:
    assert problems(name=name) == ["name: must be lowercase letters, digits and hyphens"]


def test_name_length_and_empty() -> None:
    assert problems(name="") == ["name: must not be empty"]
    assert problems(name="a" * 64) == ["name: must be at most 63 characters"]


@pytest.mark.parametrize("version", ["1.0", "1.0.0-beta", "v1.0.0", "01.0.0", "1.0.0.0", ""])
def test_bad_versions(version: str) -> None:
    assert problems(version=version) == ["version: must be a semantic version x.y.z, e.g. 1.0.0"]


def test_good_version() -> None:
    assert problems(version="10.20.30") == []


def test_python_version() -> None:
    assert problems(pythonVersion="3.8") == []
    assert problems(pythonVersion="2.7") == ["pythonVersion: must be a Python version 3.8 or newer, like 3.11"]


def test_a_package_request_takes_several_pythons() -> None:
    assert PackageRequest.model_validate({"name": "a", "code": "x = 1\n"}).python_versions == list(PYTHONS)
    request = PackageRequest.model_validate({"name": "a", "code": "x = 1\n", "pythonVersion": "3.9, 3.11"})
    assert request.python_versions == ["3.9", "3.11"]


@pytest.mark.parametrize(("text", "size"), [
    ("512MB", 512 * 1024**2), ("512M", 512 * 1024**2), ("1GB", 1024**3), ("1G", 1024**3),
    ("128Mi", 128 * 1024**2), ("0.5g", 512 * 1024**2), ("2048k", None),
])
def test_memory_forms(text: str, size: int | None) -> None:
    if size is None:
        with pytest.raises(ValueError, match="at least 128MB"):
            parse_memory(text)
    else:
        assert parse_memory(text) == size


@pytest.mark.parametrize(("text", "cores"), [("0.5", 0.5), ("500m", 0.5), ("2", 2.0), ("0.1", 0.1), ("100m", 0.1)])
def test_cpu_forms(text: str, cores: float) -> None:
    assert parse_cpu(text) == pytest.approx(cores)


def test_resource_minimums_name_the_field() -> None:
    got = problems(deployment={"resourceLimits": {"memory": "64MB", "cpu": "50m"}})
    assert got == ["deployment.resourceLimits.memory: must be at least 128MB",
                   "deployment.resourceLimits.cpu: must be at least 0.1"]
    assert problems(deployment={"resourceLimits": {"memory": "lots", "cpu": "fast"}}) == [
        "deployment.resourceLimits.memory: must be a size like 512MB, 512M, 1GB or 1G",
        "deployment.resourceLimits.cpu: must be a number of cores like 0.5 or millicores like 500m",
    ]
    assert ResourceLimits(memory="1G", cpu="1500m").cpu_cores == 1.5


def test_syntax_error_is_file_line_col() -> None:
    assert problems(code="import os\n\ndef f(:\n    pass\n") == ["main.py:3:7: SyntaxError: invalid syntax"]
    assert problems(entryPoint="src/main.py", code="x = (\n")[0].startswith("src/main.py:1:")


def test_entry_point_must_stay_inside() -> None:
    assert problems(entryPoint="../main.py") == ["entryPoint: must be inside the project"]
    assert problems(entryPoint="/etc/main.py") == ["entryPoint: must be inside the project (absolute path)"]
    assert problems(entryPoint="main.sh") == ["entryPoint: must be a .py file"]


def test_unknown_and_missing_fields() -> None:
    assert problems(color="red") == ["color: is not a known field"]
    with pytest.raises(ValidationError) as info:
        SDVAppPackage.model_validate({"code": "x = 1"})
    assert validation_lines(info.value) == ["name: is required"]


def test_enums_name_the_field() -> None:
    lines = problems(runtimeMode="vm", security={"sandboxLevel": "none"})
    assert lines[0].startswith("runtimeMode: ")
    assert lines[1].startswith("security.sandboxLevel: ")


def test_app_files_bounds() -> None:
    assert check_app_files({}) == ["files: the app has no files"]
    assert check_app_files({"../x.py": b""}) == ["../x.py: must be inside the project"]
    assert check_app_files({"/abs.py": b""}) == ["/abs.py: must be inside the project (absolute path)"]
    assert check_app_files({"a/./b.py": b""}) == ["a/./b.py: must be inside the project"]
    assert check_app_files({"big.bin": b"x" * (MAX_FILE_BYTES + 1)}) == ["big.bin: larger than 5MB"]
    many = {f"f{i}.txt": b"" for i in range(MAX_FILES + 1)}
    assert check_app_files(many) == [f"files: at most {MAX_FILES} files, got {MAX_FILES + 1}"]
    assert check_app_files({"lib/util.py": b"def f(:\n"}) == ["lib/util.py:1:7: SyntaxError: invalid syntax"]
    assert check_app_files({"bad.py": b"\xff\xfe"})[0].startswith("bad.py:1:1: SyntaxError: not UTF-8")
    assert check_app_files({"main.py": b"print(1)\n", "data/x.json": b"{}"}) == []


def test_request_matches_the_guide_body() -> None:
    body = {
        "name": "welcome-assistant", "version": "1.0.0", "description": "Vehicle welcome assistance app",
        "code": "import asyncio\n", "runtimeMode": "docker",
        "kuksaConfig": {"brokerAutoDetect": True, "fallbackBroker": True, "vssVersion": "latest"},
        "deployment": {"hotSwap": True, "otaEnabled": True, "resourceLimits": {"memory": "512MB", "cpu": "0.5"}},
    }
    request = PackageRequest.model_validate(body)
    assert request.platforms == ["x86_64", "aarch64"]
    assert request.to_json_dict()["kuksaConfig"]["vssVersion"] == "latest"
    with pytest.raises(ValidationError) as info:
        PackageRequest.model_validate({**body, "platforms": ["riscv"]})
    assert validation_lines(info.value)[0].startswith("platforms.0: ")


# -- fuzzing: only field errors, never a crash -------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_fields = st.fixed_dictionaries({}, optional={
    "name": _json | st.from_regex(r"[a-z0-9-]{0,70}", fullmatch=True),
    "version": _json | st.from_regex(r"[0-9.]{0,12}", fullmatch=True),
    "code": _json | st.text(max_size=200),
    "pythonVersion": _json | st.text(max_size=8),
    "entryPoint": _json | st.text(max_size=30),
    "runtimeMode": _json,
    "kuksaConfig": _json,
    "deployment": _json | st.fixed_dictionaries({"resourceLimits": st.fixed_dictionaries(
        {"memory": st.text(max_size=12), "cpu": st.text(max_size=12)})}),
    "security": _json,
    "extra": _json,
})


def _check_lines(model: type[SDVAppPackage] | type[PackageRequest], data: dict[str, object]) -> None:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        lines = validation_lines(exc)
        assert lines
        for line in lines:
            assert ": " in line and "Traceback" not in line


@settings(max_examples=300, deadline=None)
@given(_fields)
def test_fuzz_package(data: dict[str, object]) -> None:
    _check_lines(SDVAppPackage, data)


@settings(max_examples=200, deadline=None)
@given(_fields)
def test_fuzz_request(data: dict[str, object]) -> None:
    _check_lines(PackageRequest, data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_fuzz_units(text: str) -> None:
    for parse in (parse_memory, parse_cpu):
        try:
            parse(text)
        except ValueError as exc:
            assert str(exc)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=30), st.binary(max_size=60), max_size=5))
def test_fuzz_app_files(files: dict[str, bytes]) -> None:
    for line in check_app_files(files):
        assert ": " in line
