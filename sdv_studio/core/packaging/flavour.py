"""What kind of app the code is, read from its imports, and whether it is a whole program."""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping
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


def third_party_imports(py_files: Mapping[str, str]) -> set[str]:
    """Imports that are neither the standard library nor the app's own modules."""
    local = local_modules(list(py_files))
    roots: set[str] = set()
    for source in py_files.values():
        roots |= imported_roots(source)
    return {r for r in roots - local if r not in sys.stdlib_module_names and r != "__future__"}


def is_complete_program(source: str) -> bool:
    """True when the code starts itself: a ``__main__`` guard, a top-level call that runs it, or a
    loop at module level (a script that keeps running; inside the template it would block at import).

    A fragment (only definitions and set-up) is placed into the app template instead.
    """
    tree = _parse(source)
    if tree is None:
        return False
    for node in tree.body:
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _runs(node.value):
            return True
        if isinstance(node, ast.While | ast.For | ast.AsyncFor):
            return True
    return False


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


_RUNNERS = {"run", "run_until_complete", "run_forever", "main"}


def _runs(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in _RUNNERS
