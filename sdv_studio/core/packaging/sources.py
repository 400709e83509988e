"""Reading what users bring: a single .py, a project folder, or a digital.auto playground export.

Every kind becomes an :class:`AppSource`: the app's files by relative POSIX path, the entry point,
the requirement lines, and a name suggestion. Problems are collected, not raised one by one, so a
user sees all of them at once.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.packaging.appmanifest import (
    MAX_MANIFEST_BYTES,
    AppManifest,
    ManifestError,
    parse_app_manifest,
)
from sdv_studio.core.packaging.flavour import is_test_path
from sdv_studio.core.packaging.vehicle_model import release_named
from sdv_studio.models.package import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES, check_relative_path

# Velocitas splits its requirements over these files (the app's, the SDK's, generated pins).
REQUIREMENT_FILES = ("requirements.txt", "requirements-app.txt", "requirements-velocitas.txt")
ENTRY_CANDIDATES = ("main.py", "src/main.py", "app.py", "src/app.py", "run.py", "src/run.py")
# Folders that belong to tooling, not to the app.
_SKIP_DIRS = {
    "__pycache__", "node_modules", "venv", ".venv", "env", ".env", "build", "dist",
    ".git", ".hg", ".svn", ".idea", ".vscode", ".devcontainer", ".github", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".tox", ".velocitas",
}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".so", ".dylib", ".dll", ".whl", ".egg-info")


class SourceError(InvalidInput):
    """The source cannot be read; ``problems`` holds one line per reason."""


@dataclass
class AppSource:
    kind: str  # "file", "folder" or "playground"
    files: dict[str, bytes]
    entry_point: str
    name_hint: str
    requirements: list[str] = field(default_factory=list)
    description: str = ""
    vss_hint: str | None = None  # the VSS catalogue the project names (AppManifest): release URL, path, number
    requirement_origins: list[str] = field(default_factory=list)  # "file:line" of each requirements line
    declared_signals: list[str] = field(default_factory=list)  # the datapoints its AppManifest declares
    notes: list[str] = field(default_factory=list)  # warnings from reading it, one line each

    def requirement_lines(self) -> list[tuple[str, str]]:
        """Each requirements line with where it comes from (``app/requirements.txt:12``)."""
        origins = self.requirement_origins + ["requirements"] * (len(self.requirements) - len(self.requirement_origins))
        return list(zip(self.requirements, origins, strict=False))

    def text(self, path: str) -> str:
        return self.files[path].decode("utf-8", errors="replace")

    def python_files(self) -> dict[str, str]:
        return {path: self.text(path) for path in sorted(self.files) if path.endswith(".py")}


def load_source(path: Path) -> AppSource:
    """Any of the three kinds, recognised from what ``path`` is."""
    if not path.exists():
        raise SourceError([f"{path}: no such file or folder"])
    if path.is_dir():
        return load_folder(path)
    if path.suffix == ".py":
        return source_from_code(_read_text(path), name_hint=path.stem, kind="file")
    if path.suffix == ".json":
        return load_playground(path)
    raise SourceError([f"{path}: expected a .py file, a project folder or a playground .json export"])


def source_from_code(code: str, name_hint: str = "app", kind: str = "file") -> AppSource:
    return AppSource(kind=kind, files={"main.py": code.encode("utf-8")}, entry_point="main.py",
                     name_hint=name_hint)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError([f"{path.name}:1:1: SyntaxError: not UTF-8 ({exc.reason})"]) from exc
    except OSError as exc:
        raise SourceError([f"{path}: {exc.strerror}"]) from exc


# -- project folders ------------------------------------------------------------------------

# A project file's first ``limit`` bytes by its path from the project's root; None when it is no file.
Reader = Callable[[str, int], bytes | None]


def load_folder(root: Path) -> AppSource:
    prefix = _app_prefix(lambda rel: (root / rel).is_file())
    problems: list[str] = []
    tests: list[str] = []
    files = dict(_walk((root / prefix).resolve(), problems, tests))
    if problems:
        raise SourceError(problems)
    return _project(files, tests, _disk_reader(root), prefix, root.resolve().name, "folder",
                    vss_hint=lambda src: _vss_hint(src, root / prefix))


def source_from_files(files: Mapping[str, bytes], name_hint: str, entry: str | None = None,
                      label: str = "files", kind: str = "playground") -> AppSource:
    """A project tree handed over as files by path (a multi-file prototype), read as :func:`load_folder`
    reads the same tree on disk. ``entry`` (a path of the tree) overrides the usual entry candidates;
    ``label`` names the tree in messages."""
    problems = [f"{label}: {path}: {reason}" for path in sorted(files) if (reason := check_relative_path(path))]
    if entry is not None and (entry not in files or not entry.endswith(".py")):
        problems.append(f"{label}: the entry point {entry} is not one of its .py files")
    if problems:
        raise SourceError(problems)
    prefix = app_prefix(files, entry)
    app_files: dict[str, bytes] = {}
    tests: list[str] = []
    for path in sorted(files):
        rel = path[len(prefix):]
        if not path.startswith(prefix) or _is_tooling(rel.split("/")):
            continue
        if is_test_path(rel):
            tests.append(rel)
        else:
            app_files[rel] = files[path]
    return _project(app_files, tests, lambda rel, limit: files[rel][:limit] if rel in files else None, prefix,
                    name_hint, kind, vss_hint=_vss_release, entry=entry[len(prefix):] if entry else None,
                    label=label)


def app_prefix(paths: Collection[str], entry: str | None = None) -> str:
    """Where the app lies in a tree of ``paths``: ``app/`` in a Velocitas repository, else the root
    (also when ``entry`` names an entry point outside ``app/``)."""
    prefix = _app_prefix(paths.__contains__)
    return prefix if entry is None or entry.startswith(prefix) else ""


def _project(files: dict[str, bytes], tests: list[str], read: Reader, prefix: str, name: str, kind: str,
             vss_hint: Callable[[str | None], str | None], entry: str | None = None,
             label: str | None = None) -> AppSource:
    """What a project tree's files, manifest and requirement files make, wherever the tree lies."""
    if entry is not None and entry not in files:
        raise SourceError([f"{label or name}: the entry point {prefix}{entry} is test code, which is not packaged"])
    entry = entry or next((c for c in ENTRY_CANDIDATES if c in files), None)
    if entry is None:
        raise SourceError([f"{label or name}: no main.py or src/main.py in the project"])
    manifest = _app_manifest(read, prefix)
    # A repository's own requirements (pytest, mypy, pre-commit…) are its developer environment: when
    # the app lives in app/, only app/'s requirement files are the app's.
    requirements, origins = _requirement_lines(read, prefix)
    notes = list(manifest.notes)
    if tests:
        shown = ", ".join(tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3 else "")
        notes.append(f"note: test code is not packaged: {shown}")
    return AppSource(kind=kind, files=files, entry_point=entry, name_hint=manifest.name or name,
                     requirements=requirements, vss_hint=vss_hint(manifest.vss_src), requirement_origins=origins,
                     declared_signals=manifest.datapoints, notes=notes)


def _app_prefix(is_file: Callable[[str], bool]) -> str:
    """A Velocitas repository keeps the app in ``app/`` (``app/src/main.py``, ``app/AppManifest.json``)."""
    if any(is_file(c) for c in ENTRY_CANDIDATES):
        return ""
    if any(is_file(f"app/{c}") for c in ENTRY_CANDIDATES):
        return "app/"
    return ""


def _disk_reader(root: Path) -> Reader:
    def read(rel: str, limit: int) -> bytes | None:
        path = root / rel
        if not path.is_file():
            return None
        try:
            with path.open("rb") as f:
                return f.read(limit)
        except OSError as exc:
            raise SourceError([f"{rel}: {exc.strerror}"]) from exc

    return read


def _is_tooling(parts: Sequence[str]) -> bool:
    """A path inside a tooling folder (caches, virtualenvs, VCS) or a build artefact: never the app's."""
    name = parts[-1]
    return (any(part in _SKIP_DIRS or part.endswith(".egg-info") for part in parts[:-1])
            or name.endswith(_SKIP_SUFFIXES) or name == ".DS_Store")


def _walk(root: Path, problems: list[str], tests: list[str]) -> Iterator[tuple[str, bytes]]:
    count = total = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or _is_tooling(rel.parts):
            continue
        if is_test_path(rel.as_posix()):
            tests.append(rel.as_posix())
            continue
        if any((parent / "pyvenv.cfg").exists() for parent in path.parents if parent != root.parent):
            continue  # inside a virtual environment someone left in the project
        posix = rel.as_posix()
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                problems.append(f"{posix}: symlink points outside the project")
                continue
            if not target.is_file():
                continue
        elif not path.is_file():
            continue  # sockets, fifos
        size = path.stat().st_size
        count += 1
        total += size
        if size > MAX_FILE_BYTES:
            problems.append(f"{posix}: larger than {MAX_FILE_BYTES // 1024**2}MB")
            continue
        if count > MAX_FILES or total > MAX_TOTAL_BYTES:
            problems.append(f"{root.name}: more than {MAX_FILES} files or "
                            f"{MAX_TOTAL_BYTES // 1024**2}MB; is a virtualenv or data folder inside?")
            return
        yield posix, path.read_bytes()


def _app_manifest(read: Reader, prefix: str) -> AppManifest:
    for label in dict.fromkeys((f"{prefix}AppManifest.json", "AppManifest.json")):
        # One byte over the limit is enough for the parser to report an oversized file.
        data = read(label, MAX_MANIFEST_BYTES + 1)
        if data is not None:
            try:
                return parse_app_manifest(data, label)
            except ManifestError as exc:
                raise SourceError(exc.problems) from exc
    return AppManifest()


def _vss_hint(src: str | None, app_root: Path) -> str | None:
    """A release's number when the manifest names one (by URL), else a local catalogue's full path."""
    if not src:
        return None
    release = release_named(src)
    if release is not None or "://" in src:
        return release or src
    local = app_root / src
    return str(local.resolve()) if local.is_file() else src


def _vss_release(src: str | None) -> str | None:
    """A tree in memory has no path a catalogue could be read from: only a release (or its URL) counts."""
    if not src:
        return None
    return release_named(src) or (src if "://" in src else None)


def _requirement_lines(read: Reader, prefix: str) -> tuple[list[str], list[str]]:
    lines: list[str] = []
    origins: list[str] = []
    for name in REQUIREMENT_FILES:
        label = f"{prefix}{name}"
        data = read(label, MAX_FILE_BYTES)
        if data is not None:
            for number, line in enumerate(data.decode("utf-8-sig", errors="replace").splitlines(), start=1):
                lines.append(line)
                origins.append(f"{label}:{number}")
    return lines, origins


# -- digital.auto playground exports --------------------------------------------------------


def load_playground(path: Path) -> AppSource:
    try:
        data = json.loads(_read_text(path))
    except ValueError as exc:
        raise SourceError([f"{path.name}: not valid JSON ({exc})"]) from exc
    return source_from_playground(data, name_hint=path.stem)


def source_from_playground(data: Any, name_hint: str = "app") -> AppSource:
    """A prototype (``{name, code, …}``) whose code is Python or a JSON file tree, or the tree itself."""
    description = ""
    if isinstance(data, dict) and "code" in data:
        name_hint = str(data.get("name") or name_hint)
        raw_description = data.get("description")
        description = raw_description if isinstance(raw_description, str) else ""
        code = data["code"]
        tree = _maybe_tree(code)
        if tree is None:
            if not isinstance(code, str):
                raise SourceError(["code: must be Python source or a file tree"])
            source = source_from_code(code, name_hint=name_hint, kind="playground")
            source.description = description
            return source
    else:
        tree = _maybe_tree(data)
        if tree is None:
            raise SourceError(["export: expected a playground prototype with `code`, or a file tree"])
    files = _flatten_tree(tree)
    entry = next((c for c in ENTRY_CANDIDATES if c in files), None)
    if entry is None:
        py = sorted(p for p in files if p.endswith(".py"))
        if len(py) != 1:
            raise SourceError(["code: the file tree has no main.py"])
        entry = py[0]
    numbered = [(line, f"{name}:{number}") for name in REQUIREMENT_FILES if name in files
                for number, line in enumerate(files[name].decode("utf-8", errors="replace").splitlines(), 1)]
    return AppSource(kind="playground", files=files, entry_point=entry, name_hint=name_hint,
                     requirements=[line for line, _ in numbered], description=description,
                     requirement_origins=[origin for _, origin in numbered])


def _maybe_tree(value: Any) -> list[Any] | None:
    """The file tree if ``value`` is one (the playground stores it as a JSON string)."""
    if isinstance(value, str):
        stripped = value.lstrip()
        if not stripped.startswith(("[", "{")):
            return None
        try:
            value = json.loads(stripped)
        except ValueError:
            return None
    if isinstance(value, dict) and value.get("type") in ("folder", "file"):
        return [value]
    if isinstance(value, list) and all(isinstance(i, dict) and "type" in i for i in value) and value:
        return value
    return None


def _flatten_tree(tree: list[Any]) -> dict[str, bytes]:
    # The editor wraps everything in one root folder; its name is not part of the app's paths.
    if len(tree) == 1 and tree[0].get("type") == "folder":
        tree = tree[0].get("items") or []
    files: dict[str, bytes] = {}
    problems: list[str] = []
    _collect(tree, "", files, problems, depth=0)
    if problems:
        raise SourceError(problems)
    if not files:
        raise SourceError(["code: the file tree has no files"])
    return files


def _collect(items: list[Any], prefix: str, files: dict[str, bytes], problems: list[str],
             depth: int) -> None:
    if depth > 32:
        problems.append(f"{prefix or 'code'}: folders nested too deep")
        return
    for item in items:
        if not isinstance(item, dict):
            problems.append(f"{prefix or 'code'}: not a file or folder entry")
            continue
        name = str(item.get("name") or "")
        path = f"{prefix}{name}"
        reason = check_relative_path(path)
        if reason:
            problems.append(f"{path or 'code'}: {reason}")
            continue
        if item.get("type") == "folder":
            _collect(list(item.get("items") or []), f"{path}/", files, problems, depth + 1)
        elif item.get("type") == "file":
            content = item.get("content") or ""
            if item.get("isBase64"):
                try:
                    files[path] = base64.b64decode(str(content), validate=True)
                except (binascii.Error, ValueError):
                    problems.append(f"{path}: content is not valid base64")
            else:
                files[path] = str(content).encode("utf-8")
        else:
            problems.append(f"{path}: type must be folder or file")
        if len(files) > MAX_FILES:
            problems.append(f"code: more than {MAX_FILES} files")
            return
