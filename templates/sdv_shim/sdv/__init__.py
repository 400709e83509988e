"""Compatibility shim: ``sdv.*`` (the Velocitas SDK's old import name, still written by the
digital.auto playground) resolves to the same modules of ``velocitas_sdk``.

PyPI's package called ``sdv`` is unrelated, so the name cannot come from an install. Aliasing the
module objects (not copying them) keeps ``isinstance`` checks and module state shared.
"""

from __future__ import annotations  # the annotations below, on Python 3.8

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

import velocitas_sdk

_OLD, _NEW = "sdv", "velocitas_sdk"


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_OLD + "."):
            return None
        real = _NEW + fullname[len(_OLD):]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(_NEW + spec.name[len(_OLD):])

    def exec_module(self, module: ModuleType) -> None:
        pass  # the real module is already executed


sys.meta_path.insert(0, _AliasFinder())
__path__: list[str] = []  # a package, so ``sdv.x`` imports reach the finder above
__version__ = getattr(velocitas_sdk, "__version__", "")
