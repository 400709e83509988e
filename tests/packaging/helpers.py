"""Loading packaging/*.py by path: the folder shares its name with the ``packaging`` distribution."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tests.locations import REPO

PACKAGING = REPO / "packaging"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"sdv_packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
