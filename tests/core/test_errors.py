"""One vocabulary: every exception core defines is a kind of ``Problems``, with its lines."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import sdv_studio.core
from sdv_studio.core.errors import InvalidInput, NotFound, OperationFailed, Problems, Unavailable


def _core_exceptions() -> list[type[BaseException]]:
    found = []
    for module_info in pkgutil.walk_packages(sdv_studio.core.__path__, "sdv_studio.core."):
        module = importlib.import_module(module_info.name)
        found += [cls for _name, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, BaseException) and cls.__module__ == module.__name__]
    return found


def test_every_exception_core_defines_is_in_the_vocabulary() -> None:
    exceptions = _core_exceptions()
    assert len(exceptions) >= 20  # the walk reached the subpackages
    assert not [cls.__qualname__ for cls in exceptions if not issubclass(cls, Problems)]


def test_each_is_one_kind_only() -> None:
    """Invalid input and a failure exclude each other, so no face has to choose between two answers."""
    assert not [cls.__qualname__ for cls in _core_exceptions()
                if issubclass(cls, InvalidInput) and issubclass(cls, OperationFailed)]


def test_the_lines_and_the_message() -> None:
    one = OperationFailed("d1: cannot connect")
    assert one.problems == ["d1: cannot connect"] and str(one) == "d1: cannot connect"
    two = InvalidInput(line for line in ["name: is required", "main.py:1:7: SyntaxError: invalid syntax"])
    assert two.problems == ["name: is required", "main.py:1:7: SyntaxError: invalid syntax"]
    assert str(two) == "name: is required; main.py:1:7: SyntaxError: invalid syntax"
    assert issubclass(NotFound, InvalidInput) and issubclass(Unavailable, OperationFailed)
