"""SDVAppPackage (docs/package-format.md) and the POST /api/apps/package request (docs/interface.md), with
their validation rules.

Every rule reports against the field it checks (``name: must be …``); Python syntax errors are
reported as ``file:line:col: SyntaxError: message`` so a user can jump to them.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sdv_studio.models.base import CamelModel

NAME_MAX = 63  # a DNS label / container name: the name ends up in both
MIN_MEMORY = 128 * 1024**2
MAX_MEMORY = 1024**4
MIN_CPU = 0.1
MAX_CPU = 256.0
MAX_FILES = 2000
MAX_FILE_BYTES = 5 * 1024**2
MAX_TOTAL_BYTES = 50 * 1024**2

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_VERSION = re.compile(r"(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})")
_PYTHON = re.compile(r"3\.(\d{1,2})")
_MEMORY = re.compile(r"(\d{1,12}(?:\.\d{1,6})?)\s*([kmgt])(i?b?)", re.IGNORECASE)
_CPU = re.compile(r"(\d{1,6}(?:\.\d{1,6})?)|(\d{1,9})m")
_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
SYNTAX_ERROR = "python_syntax"
Platform = Literal["x86_64", "aarch64"]
PLATFORMS: tuple[Platform, ...] = ("x86_64", "aarch64")
# The device Pythons a package targets by default: JetPack 5 has 3.8, Debian trixie 3.13.
PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


def check_name(value: str) -> str:
    if not value:
        raise _fail("must not be empty")
    if len(value) > NAME_MAX:
        raise _fail(f"must be at most {NAME_MAX} characters")
    if not _NAME.fullmatch(value):
        raise _fail("must be lowercase letters, digits and hyphens")
    return value


def check_version(value: str) -> str:
    if not _VERSION.fullmatch(value):
        raise _fail("must be a semantic version x.y.z, e.g. 1.0.0")
    return value


def check_python_version(value: str) -> str:
    match = _PYTHON.fullmatch(value)
    if not match or not 8 <= int(match.group(1)) <= 20:
        raise _fail("must be a Python version 3.8 or newer, like 3.11")
    return value


def check_python_versions(value: str) -> str:
    """One Python (``3.11``) or several (``3.9,3.11``): the device Pythons a package carries wheels for."""
    for item in value.split(","):
        try:
            check_python_version(item.strip())
        except PydanticCustomError:
            raise _fail("must be Python versions 3.8 or newer, like 3.11 or 3.9,3.11") from None
    return value


def python_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_memory(value: str) -> int:
    """Bytes in ``512MB``, ``512M``, ``1GB``, ``1G``, ``512Mi`` (binary units, as Docker counts)."""
    match = _MEMORY.fullmatch(value.strip())
    if not match:
        raise _fail("must be a size like 512MB, 512M, 1GB or 1G")
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size < MIN_MEMORY:
        raise _fail("must be at least 128MB")
    if size > MAX_MEMORY:
        raise _fail("must be at most 1TB")
    return size


def parse_cpu(value: str) -> float:
    """Cores in ``0.5`` or ``500m`` (millicores, as Kubernetes writes them)."""
    match = _CPU.fullmatch(value.strip())
    if not match:
        raise _fail("must be a number of cores like 0.5 or millicores like 500m")
    cores = float(match.group(1)) if match.group(1) else int(match.group(2)) / 1000
    if cores < MIN_CPU:
        raise _fail("must be at least 0.1")
    if cores > MAX_CPU:
        raise _fail(f"must be at most {MAX_CPU:g}")
    return cores


def syntax_errors(path: str, source: str) -> list[str]:
    """``path:line:col: SyntaxError: message`` for code that does not parse, else []."""
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences warn while parsing; they are the user's style, not our error.
            warnings.simplefilter("ignore")
            ast.parse(source, filename=path)
    except SyntaxError as exc:
        kind = type(exc).__name__
        return [f"{path}:{exc.lineno or 1}:{exc.offset or 1}: {kind}: {exc.msg}"]
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        return [f"{path}:1:1: SyntaxError: {exc}"]
    return []


def check_relative_path(path: str) -> str | None:
    """Why ``path`` cannot be a file of the app, or None when it is fine."""
    if not path or "\x00" in path or "\\" in path:
        return "is not a valid relative path"
    if path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return "must be inside the project (absolute path)"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "must be inside the project"
    return None


def check_app_files(files: Mapping[str, bytes]) -> list[str]:
    """Bounds on the app's files: count, sizes, paths; syntax of every ``.py``."""
    problems: list[str] = []
    if not files:
        return ["files: the app has no files"]
    if len(files) > MAX_FILES:
        problems.append(f"files: at most {MAX_FILES} files, got {len(files)}")
    total = 0
    for path in sorted(files):
        data = files[path]
        total += len(data)
        reason = check_relative_path(path)
        if reason:
            problems.append(f"{path}: {reason}")
            continue
        if len(data) > MAX_FILE_BYTES:
            problems.append(f"{path}: larger than {MAX_FILE_BYTES // 1024**2}MB")
        elif path.endswith(".py"):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(f"{path}:1:1: SyntaxError: not UTF-8 ({exc.reason})")
                continue
            problems.extend(syntax_errors(path, text))
    if total > MAX_TOTAL_BYTES:
        problems.append(f"files: larger than {MAX_TOTAL_BYTES // 1024**2}MB in total")
    return problems


class KuksaConfig(CamelModel):
    broker_auto_detect: bool = True
    fallback_broker: bool = True
    vss_version: str = Field(default="4.0", max_length=4096)
    custom_broker_url: str | None = Field(default=None, max_length=2048)


# What a client may name over the API: a release (4.0, 3.1.1, latest) or a release's download URL.
# Never a path: the server would read any of its own files, and tell the caller which exist.
_VSS_RELEASE = re.compile(r"\d+\.\d+(\.\d+)?|latest|default|https://\S+/vss_rel(ease)?_\d+\.\d+(\.\d+)?\.json")


class RequestKuksaConfig(KuksaConfig):
    @field_validator("vss_version")
    @classmethod
    def _release_not_path(cls, value: str) -> str:
        if not _VSS_RELEASE.fullmatch(value.strip()):
            raise _fail("must be a VSS release like 4.0 or its release URL (…/vss_rel_4.0.json), not a path")
        return value.strip()


class ResourceLimits(CamelModel):
    memory: str = Field(default="512MB", max_length=64)
    cpu: str = Field(default="0.5", max_length=64)

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        parse_memory(value)
        return value

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str) -> str:
        parse_cpu(value)
        return value

    @property
    def memory_bytes(self) -> int:
        return parse_memory(self.memory)

    @property
    def cpu_cores(self) -> float:
        return parse_cpu(self.cpu)


class DeploymentConfig(CamelModel):
    target_devices: list[str] = Field(default_factory=list, max_length=1000)
    hot_swap: bool = True
    ota_enabled: bool = True
    resource_limits: ResourceLimits = Field(default_factory=ResourceLimits)


class SecurityConfig(CamelModel):
    sandbox_level: Literal["basic", "advanced", "military"] = "basic"
    data_access: Literal["open", "restricted", "encrypted"] = "restricted"
    inter_app_communication: bool = False


class _AppFields(CamelModel):
    """What the package and the API request share, with the same rules."""

    name: str = Field(max_length=1024)
    version: str = Field(default="1.0.0", max_length=64)
    description: str = Field(default="", max_length=4096)
    runtime_mode: Literal["docker", "native"] = "native"
    code: str = Field(max_length=MAX_FILE_BYTES)
    kuksa_config: KuksaConfig = Field(default_factory=KuksaConfig)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        return check_version(value)


class SDVAppPackage(_AppFields):
    """SDVAppPackage, held by a package's manifest (docs/package-format.md); ``code`` is the entry point's source."""

    python_version: str = Field(default="3.11", max_length=16)
    entry_point: str = Field(default="main.py", max_length=1024)
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)

    @field_validator("python_version")
    @classmethod
    def _python(cls, value: str) -> str:
        return check_python_version(value)

    @field_validator("entry_point")
    @classmethod
    def _entry(cls, value: str) -> str:
        reason = check_relative_path(value)
        if reason:
            raise _fail(reason)
        if not value.endswith(".py"):
            raise _fail("must be a .py file")
        return value

    @model_validator(mode="after")
    def _code_parses(self) -> Self:
        errors = syntax_errors(self.entry_point, self.code)
        if errors:
            raise PydanticCustomError(SYNTAX_ERROR, errors[0])
        return self


class RequestDeployment(CamelModel):
    """The request's ``deployment``: target devices may be left out (POST /api/deployments names them)."""

    target_devices: list[str] = Field(default_factory=list, max_length=1000)
    hot_swap: bool = True
    ota_enabled: bool = True
    resource_limits: ResourceLimits = Field(default_factory=ResourceLimits)


class PackageRequest(_AppFields):
    """The body of ``POST /api/apps/package`` (docs/interface.md): the guide's fields plus optional build settings."""

    kuksa_config: RequestKuksaConfig = Field(default_factory=RequestKuksaConfig)
    deployment: RequestDeployment = Field(default_factory=RequestDeployment)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    # One Python or several, comma-separated; by default every Python SDV Studio targets.
    python_version: str = Field(default=",".join(PYTHONS), max_length=128)
    platforms: list[Platform] = Field(default_factory=lambda: list(PLATFORMS))
    requirements: list[str] = Field(default_factory=list, max_length=500)

    @field_validator("python_version")
    @classmethod
    def _python(cls, value: str) -> str:
        return check_python_versions(value)

    @property
    def python_versions(self) -> list[str]:
        return python_list(self.python_version)

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, value: list[Platform]) -> list[Platform]:
        if not value:
            raise _fail("must name at least one platform")
        return sorted(set(value), key=value.index)


def validation_lines(exc: ValidationError) -> list[str]:
    """One ``field: message`` line per problem (syntax errors as ``file:line:col: …``)."""
    lines = []
    for error in exc.errors(include_url=False):
        if error["type"] == SYNTAX_ERROR:
            lines.append(error["msg"])
            continue
        where = ".".join(str(part) for part in error["loc"]) or "body"
        lines.append(f"{where}: {_plain(error)}")
    return lines


def _plain(error: Mapping[str, object]) -> str:
    message = str(error["msg"])
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a known field"
    return message[0].lower() + message[1:] if message else message
