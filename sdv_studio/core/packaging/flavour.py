"""What kind of app the code is, read from its imports, and whether it is a whole program."""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Flavour(StrEnum):
    VELOCITAS = "velocitas"  # Velocitas SDK / playground: sdv.*, velocitas_sdk.*, the vehicle model
    KUKSA = "kuksa"  # kuksa-client
    PLAIN = "plain"


VELOCITAS_MODULES = {"sdv", "velocitas_sdk", "sdv_model"}
MODEL_MODULES = {"vehicle", "sdv_model"}


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def imported_roots(source: str) -> set[str]:
    """Top-level module names the code imports (absolute imports only)."""
    tree = _parse(source)
    if tree is None:
        return set()
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def local_modules(paths: list[str]) -> set[str]:
    """Module names the app itself provides (``foo.py``, ``foo/__init__.py``, ``src/foo.py``)."""
    names: set[str] = set()
    for path in paths:
        parts = path.split("/")
        if parts[0] == "src":
            parts = parts[1:]
        if not parts:
            continue
        if len(parts) == 1 and parts[0].endswith(".py"):
            names.add(parts[0][:-3])
        elif len(parts) > 1:
            names.add(parts[0])
    return names


def detect_flavour(py_files: Mapping[str, str]) -> Flavour:
    local = local_modules(list(py_files))
    roots: set[str] = set()
    for source in py_files.values():
        roots |= imported_roots(source)
    foreign = roots - local
    if foreign & VELOCITAS_MODULES or "vehicle" in foreign:
        return Flavour.VELOCITAS
    if "kuksa_client" in foreign:
        return Flavour.KUKSA
    return Flavour.PLAIN


def needs_vehicle_model(py_files: Mapping[str, str]) -> bool:
    """The app imports the generated model and does not ship one itself."""
    local = local_modules(list(py_files))
    return any((imported_roots(src) & MODEL_MODULES) - local for src in py_files.values())


TEST_DIRS = {"tests", "test"}


def is_test_path(path: str) -> bool:
    """Test code by the conventions pytest follows: test folders, ``test_*.py``, ``*_test.py``, conftest."""
    parts = path.split("/")
    name = parts[-1]
    return (any(part in TEST_DIRS for part in parts[:-1]) or name == "conftest.py"
            or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))))


def third_party_imports(py_files: Mapping[str, str]) -> set[str]:
    """Imports that are neither the standard library nor the app's own modules (test code aside)."""
    local = local_modules(list(py_files))
    roots: set[str] = set()
    for path, source in py_files.items():
        if not is_test_path(path):
            roots |= imported_roots(source)
    return {r for r in roots - local if r not in sys.stdlib_module_names and r != "__future__"}


def is_complete_program(source: str) -> bool:
    """True when the code starts itself (see :func:`program_start`); a fragment goes into the template."""
    return program_start(source) is not None


@dataclass(frozen=True)
class Start:
    """Where a module starts itself: the line and a short form of the statement that does it."""

    line: int
    what: str
    runs_loop: bool  # its own loop at module level, rather than a call that starts it

    def __str__(self) -> str:
        return f"line {self.line}: `{self.what}`" + (" at module level" if self.runs_loop else "")


def program_start(source: str) -> Start | None:
    """The first module-level statement that makes the code a whole program, or None for a fragment.

    A program starts itself: a ``__main__`` guard, a top-level call that runs it (``asyncio.run``,
    ``LOOP.run_until_complete``, ``main()``), or a loop at module level, also inside a ``with`` or
    ``try`` block (KUKSA's documented ``with VSSClient(...) as client: while True: ...``). Inside the
    template such code would run at import and block the template's own start.
    """
    tree = _parse(source)
    return None if tree is None else _first_start(tree.body)


def _first_start(body: list[ast.stmt]) -> Start | None:
    for node in body:
        start = _start_of(node)
        if start is not None:
            return start
    return None


def _start_of(node: ast.stmt) -> Start | None:
    if isinstance(node, ast.If) and _is_main_guard(node.test):
        return Start(node.lineno, 'if __name__ == "__main__":', runs_loop=False)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _runs(node.value):
        return Start(node.lineno, _call_text(node.value), runs_loop=False)
    if isinstance(node, ast.While):
        return Start(node.lineno, f"while {_short(node.test)}:", runs_loop=True)
    if isinstance(node, ast.For | ast.AsyncFor) and not _finite(node.iter):
        return Start(node.lineno, f"for {_short(node.target)} in {_short(node.iter)}:", runs_loop=True)
    if isinstance(node, ast.With | ast.AsyncWith):
        inner = _first_start(node.body)
        if inner is None:
            return None
        context = _short(node.items[0].context_expr)
        prefix = "async with" if isinstance(node, ast.AsyncWith) else "with"
        return Start(node.lineno, f"{prefix} {context}", runs_loop=inner.runs_loop)
    if isinstance(node, ast.Try):
        return _first_start(node.body)
    return None


_FINITE_CALLS = {"range", "enumerate", "zip", "sorted", "reversed", "list", "tuple", "dict", "set"}


def _finite(iterable: ast.expr) -> bool:
    """A loop over a literal collection (or range/zip/... of one) is set-up, not the app's own loop."""
    if isinstance(iterable, ast.List | ast.Tuple | ast.Set | ast.Dict | ast.Constant):
        return True
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id in _FINITE_CALLS:
        return all(_finite(arg) or isinstance(arg, ast.Constant) for arg in iterable.args)
    return False


def _short(node: ast.expr) -> str:
    """Source-like text for a statement's head; a call's arguments are elided."""
    if isinstance(node, ast.Call):
        return f"{_short(node.func)}(...)"
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


def _call_text(call: ast.Call) -> str:
    text = ast.unparse(call)
    return text if len(text) <= 60 else f"{_short(call.func)}(...)"


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


_RUNNERS = {"run", "run_until_complete", "run_forever", "main"}


def _runs(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in _RUNNERS


# -- what to do with the entry point ------------------------------------------------------------

TEMPLATE_HOOKS = ("on_start", "subscribe_to_signals", "on_stop")


class Kind(StrEnum):
    PROGRAM = "program"  # runs its own loop or starts itself: run as is under the launcher
    VEHICLE_APP = "vehicle-app"  # a Velocitas VehicleApp subclass that the module starts
    PLAYGROUND = "playground"  # a digital.auto playground app (the SDK under its old name, sdv.*)
    FRAGMENT = "fragment"  # definitions and set-up (or the template hooks): goes into the template


@dataclass(frozen=True)
class EntryKind:
    kind: Kind
    flavour: Flavour
    reason: str  # one progress line: what it is, why, and what the packager does with it

    @property
    def templated(self) -> bool:
        return self.kind is Kind.FRAGMENT


def classify_entry(py_files: Mapping[str, str], entry_point: str) -> EntryKind:
    """What the entry point is, and so whether it runs as is or is wrapped into the app template."""
    flavour = detect_flavour(py_files)
    source = py_files.get(entry_point, "")
    tree = _parse(source)
    start = None if tree is None else _first_start(tree.body)
    if flavour is Flavour.VELOCITAS:
        return _velocitas_kind(tree, start)
    if start is not None:
        doing = "runs its own loop" if start.runs_loop else "starts itself"
        return EntryKind(Kind.PROGRAM, flavour,
                         f"{flavour} program that {doing} ({start}): run as is under the launcher")
    hooks = [] if tree is None else _defined_hooks(tree)
    why = (f"defines the template hooks {', '.join(hooks)}" if hooks
           else "only definitions and set-up, nothing that starts it")
    return EntryKind(Kind.FRAGMENT, Flavour.KUKSA,
                     f"{flavour} fragment ({why}): placed into the kuksa app template, which connects "
                     "to the databroker, runs the hooks and serves /health")


def _velocitas_kind(tree: ast.Module | None, start: Start | None) -> EntryKind:
    app_class = None if tree is None else _vehicle_app_class(tree)
    old_sdk = None if tree is None else _old_sdk_import(tree)
    started = (f"started at line {start.line} by `{start.what}`" if start is not None
               else "never started by the module (nothing will run)")
    if old_sdk is not None:
        return EntryKind(Kind.PLAYGROUND, Flavour.VELOCITAS,
                         f"playground app (line {old_sdk}: imports the SDK as `sdv`; {started}): run as is "
                         "under the launcher, with `sdv` resolved to velocitas_sdk")
    what = f"Velocitas VehicleApp `{app_class[0]}` (line {app_class[1]})" if app_class else "Velocitas SDK code"
    return EntryKind(Kind.VEHICLE_APP, Flavour.VELOCITAS, f"{what} {started}: run as is under the launcher")


def _defined_hooks(tree: ast.Module) -> list[str]:
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    return [hook for hook in TEMPLATE_HOOKS if hook in defined]


def _vehicle_app_class(tree: ast.Module) -> tuple[str, int] | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(_base_name(b) == "VehicleApp" for b in node.bases):
            return node.name, node.lineno
    return None


def _base_name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _old_sdk_import(tree: ast.Module) -> int | None:
    """The line of the first import of ``sdv`` (the SDK's old name, which the playground writes)."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "sdv":
            return node.lineno
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sdv" for a in node.names):
            return node.lineno
    return None
