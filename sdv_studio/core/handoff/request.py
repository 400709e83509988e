"""One hand-off: a prototype's Python code (one file, or a multi-file tree) and name, checked like
any source before anyone sees it."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.packaging.sources import AppSource, SourceError, app_prefix, source_from_code, source_from_files
from sdv_studio.models.package import check_relative_path, syntax_errors

MAX_CODE_BYTES = 1024**2  # one Python file; a playground prototype is a few KB
MAX_TREE_FILES = 256  # a multi-file prototype (a Velocitas app) has a dozen
MAX_TREE_BYTES = 2 * MAX_CODE_BYTES
MAX_BODY_BYTES = 2 * MAX_TREE_BYTES + 64 * 1024  # JSON escaping may double the code
MAX_NAME_CHARS = 200
ENTRY_POINT = "main.py"  # what one file's code becomes in the package, and where its syntax errors point
_VSS = re.compile(r"v?(\d+(?:\.\d+){0,2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class HandoffError(InvalidInput):
    """The hand-off cannot be shown; one line per problem, each naming its field (or field: file)."""


@dataclass(frozen=True)
class Fields:
    """What each value is called where it comes from (a request body, a link's query)."""

    code: str
    name: str
    vss: str
    files: str
    entry: str


BODY_FIELDS = Fields("pythonCode", "prototypeName", "vssVersion", "files", "entryPoint")


@dataclass(frozen=True)
class Handoff:
    code: str  # the Python the editor shows: the one file, or a tree's entry point
    name: str  # the prototype's name as the page gave it
    origin: str  # the page's origin, or how it came (a link); shown to the user
    vss_version: str | None = None
    files: Mapping[str, str] | None = None  # a multi-file prototype: its text files by relative path
    entry: str | None = None  # the tree's entry point: its path in files

    def syntax_problems(self) -> list[str]:
        """``PATH:LINE:COL: SyntaxError: …`` for every file that does not parse: shown anyway, the
        entry point's error at its line in the editor."""
        if self.files is None:
            return syntax_errors(ENTRY_POINT, self.code)
        return [problem for path in sorted(self.files) if path.endswith(".py")
                for problem in syntax_errors(path, self.files[path])]

    def source(self) -> AppSource:
        """What Configure opens: one file as a pasted prototype, a tree as an opened project folder."""
        if self.files is None:
            return source_from_code(self.code, name_hint=self.name, kind="playground")
        return _tree_source(self.files, self.name, self.entry)


def parse_handoff(body: bytes, origin: str) -> Handoff:
    """A ``POST /api/handoff`` body (``{pythonCode | files + entryPoint?, prototypeName, vssVersion?}``);
    raises HandoffError."""
    if len(body) > MAX_BODY_BYTES:
        raise HandoffError([f"body: larger than {MAX_BODY_BYTES // 1024} KB"])
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HandoffError([f"body: not JSON ({exc})"]) from exc
    if not isinstance(data, dict):
        raise HandoffError(["body: must be a JSON object"])
    return handoff_from_fields(data, origin)


def handoff_from_fields(values: Mapping[str, Any], origin: str, fields: Fields = BODY_FIELDS) -> Handoff:
    """The checks every way in shares; ``fields`` names the values as the caller's format spells them."""
    code, name, vss = values.get(fields.code), values.get(fields.name), values.get(fields.vss)
    files, entry = values.get(fields.files), values.get(fields.entry)
    problems: list[str] = []
    if files is not None:
        if code is not None:
            problems.append(f"{fields.files}: send either {fields.code} or {fields.files}, not both")
        problems += _tree_problems(files, entry, fields)
    elif not isinstance(code, str) or not code.strip():
        problems.append(f"{fields.code}: required, the prototype's Python code (or {fields.files}, its file tree)")
    else:
        problems += _text_problems(fields.code, code)
    if entry is not None and files is None:
        problems.append(f"{fields.entry}: only with {fields.files}")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{fields.name}: required, the prototype's name")
    elif len(name) > MAX_NAME_CHARS or _CONTROL.search(name):
        problems.append(f"{fields.name}: at most {MAX_NAME_CHARS} characters, on one line")
    version = None
    if vss is not None:
        match = _VSS.fullmatch(vss) if isinstance(vss, str) else None
        if match is None:
            problems.append(f"{fields.vss}: a VSS release number such as 4.0")
        else:
            version = match.group(1)
    if problems:
        raise HandoffError(problems)
    assert isinstance(name, str)
    if files is None:
        assert isinstance(code, str)
        return Handoff(code=code, name=name.strip(), origin=origin, vss_version=version)
    try:
        source = _tree_source(files, name.strip(), entry)  # as Configure will open it: manifest, entry point
    except SourceError as exc:
        raise HandoffError(exc.problems) from exc
    return Handoff(code=source.text(source.entry_point), name=name.strip(), origin=origin, vss_version=version,
                   files=dict(files), entry=entry or app_prefix(files) + source.entry_point)


def _tree_source(files: Mapping[str, str], name: str, entry: str | None) -> AppSource:
    source = source_from_files({path: text.encode("utf-8") for path, text in files.items()}, name, entry)
    # The prototype's own name, not a manifest's (the playground's Velocitas apps keep the template's).
    return dataclasses.replace(source, name_hint=name)


def _text_problems(label: str, text: str) -> list[str]:
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return [f"{label}: not Unicode text (a lone surrogate)"]
    return [f"{label}: larger than {MAX_CODE_BYTES // 1024} KB"] if size > MAX_CODE_BYTES else []


def _tree_problems(files: Any, entry: Any, fields: Fields) -> list[str]:
    label = fields.files
    if not isinstance(files, dict) or not files:
        return [f"{label}: an object of file paths and their text, such as {{\"src/main.py\": \"…\"}}"]
    if len(files) > MAX_TREE_FILES:
        return [f"{label}: at most {MAX_TREE_FILES} files, got {len(files)}"]
    problems: list[str] = []
    for path, text in files.items():
        reason = check_relative_path(path)
        if reason:
            problems.append(f"{label}: {path}: {reason}")
        elif not isinstance(text, str):
            problems.append(f"{label}: {path}: must be the file's text")
        else:
            problems += _text_problems(f"{label}: {path}", text)
    total = sum(len(text.encode("utf-8", errors="surrogatepass")) for text in files.values() if isinstance(text, str))
    if total > MAX_TREE_BYTES:
        problems.append(f"{label}: larger than {MAX_TREE_BYTES // 1024} KB in total")
    if entry is not None and (not isinstance(entry, str) or not entry.endswith(".py") or entry not in files):
        problems.append(f"{fields.entry}: must name one of the .py files in {label}")
    return problems
