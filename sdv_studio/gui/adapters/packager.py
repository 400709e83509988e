"""Binding to the packager (sdv_studio.core.packaging): field checks, loading sources, building.

The build is blocking code, so it runs in the loop's executor and its progress (the packager's typed
stages) is handed back to the event loop as a stream of events.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
import tarfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic_core import PydanticCustomError

from sdv_studio.core.errors import OperationFailed
from sdv_studio.core.packaging.sources import (
    AppSource,
    SourceError,
    load_source,
    source_from_code,
    source_from_playground,
)
from sdv_studio.core.packaging.stages import BuildProgress
from sdv_studio.models import package as rules

# The builder (wheels, templates, the vehicle model) loads on first build, not with the window.
if TYPE_CHECKING:
    from sdv_studio.core.packaging import BuildOptions, BuildResult
    from sdv_studio.core.packaging.store import PackageStore
    from sdv_studio.core.packaging.wheels import Combination

__all__ = ["AppSource", "BuildProgress", "SourceError"]


@dataclass(frozen=True)
class BuildDone:
    result: BuildResult


BuildEvent = BuildProgress | BuildDone

_FIELD_CHECKS: dict[str, Callable[[str], object]] = {
    "name": rules.check_name,
    "version": rules.check_version,
    "python": rules.check_python_version,
    "memory": rules.parse_memory,
    "cpu": rules.parse_cpu,
}


def field_error(field: str, value: str) -> str | None:
    """The packager's own rule for one field, as the message to show beside it."""
    try:
        _FIELD_CHECKS[field](value)
    except PydanticCustomError as exc:
        return exc.message()
    return None


@dataclass(frozen=True)
class SyntaxProblem:
    line: int
    column: int
    message: str


def syntax_problem(path: str, code: str) -> SyntaxProblem | None:
    """The first syntax error as the packager reports it (``path:line:col: Kind: msg``)."""
    errors = rules.syntax_errors(path, code)
    if not errors:
        return None
    match = re.match(r".*?:(\d+):(\d+): (.*)", errors[0], re.S)
    if match is None:
        return SyntaxProblem(1, 1, errors[0])
    return SyntaxProblem(int(match.group(1)), int(match.group(2)), match.group(3))


def suggested_name(hint: str) -> str:
    """A valid package name from a file, folder or prototype name (``Smart Wipers`` -> ``smart-wipers``)."""
    name = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:63].strip("-")
    return name or "app"


def options(**fields: object) -> BuildOptions:
    from sdv_studio.core.packaging import BuildOptions

    return BuildOptions(**fields)  # type: ignore[arg-type]


def load(path: Path) -> AppSource:
    """A .py file, a project folder or a playground export; raises SourceError."""
    return load_source(path)


def from_text(text: str, name_hint: str = "app") -> AppSource:
    """Pasted or dropped text: playground JSON when it parses as such, else Python code."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if data is not None:
            return source_from_playground(data, name_hint=name_hint)
    return source_from_code(text, name_hint=name_hint)


def with_entry_code(source: AppSource, code: str) -> AppSource:
    """The source with its entry point replaced by what is in the editor."""
    files = dict(source.files)
    files[source.entry_point] = code.encode("utf-8")
    # replace() keeps every other field: the requirements' origins and the notes from reading it.
    return dataclasses.replace(source, files=files, requirements=list(source.requirements))


@dataclass(frozen=True)
class PackagedFile:
    path: str
    size: int


def contents(archive: Path) -> list[PackagedFile]:
    """The files inside a package, for the summary's file list."""
    with tarfile.open(archive, "r:gz") as tar:
        return [PackagedFile(m.name, m.size) for m in tar.getmembers() if m.isfile()]


class TopUpRefused(OperationFailed):
    """The package cannot be given the wheels a device needs; the message says what to do instead."""


def missing_wheel_sets(manifest: dict[str, object], devices: list[tuple[str, str]]) -> list[Combination]:
    """The (Python, arch) of these devices that the package has no wheel set for."""
    from sdv_studio.core.packaging.top_up import missing_combinations

    return missing_combinations(manifest, devices)


class Packager(Protocol):
    def build(self, source: AppSource, options: BuildOptions) -> AsyncIterator[BuildEvent]: ...

    async def top_up(self, result: BuildResult, combinations: list[Combination]) -> BuildResult: ...

    async def save_as(self, result: BuildResult, dest: Path) -> Path: ...

    async def contents(self, result: BuildResult) -> list[PackagedFile]: ...


class CorePackager:
    def __init__(self, store: PackageStore | None = None) -> None:
        self._store = store

    async def build(self, source: AppSource, options: BuildOptions) -> AsyncIterator[BuildEvent]:
        from sdv_studio.core.packaging import build_package

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[BuildProgress] = asyncio.Queue()

        def progress(event: BuildProgress) -> None:  # called on the build thread
            loop.call_soon_threadsafe(queue.put_nowait, event)

        job = loop.run_in_executor(None, lambda: build_package(source, options, progress, self._store))
        while True:
            getter = asyncio.ensure_future(queue.get())
            either: set[asyncio.Future[Any]] = {getter, job}
            try:
                done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not getter.done():
                    getter.cancel()
            if getter in done:
                yield getter.result()
                continue
            while not queue.empty():
                yield queue.get_nowait()
            yield BuildDone(job.result())  # re-raises PackageError / BuildFailed
            return

    async def top_up(self, result: BuildResult, combinations: list[Combination]) -> BuildResult:
        """The package with wheel sets added for ``combinations`` (core.packaging.top_up)."""
        from sdv_studio.core.packaging.top_up import TopUpError, top_up

        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, lambda: top_up(result.stored.package_id, combinations, self._store))
        except TopUpError as exc:
            raise TopUpRefused(str(exc)) from exc

    async def save_as(self, result: BuildResult, dest: Path) -> Path:
        await asyncio.get_running_loop().run_in_executor(None, shutil.copyfile, result.path, dest)
        return dest

    async def contents(self, result: BuildResult) -> list[PackagedFile]:
        return await asyncio.get_running_loop().run_in_executor(None, contents, result.path)
