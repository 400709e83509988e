"""The package store with damaged metadata: a package it cannot describe is not offered, and the
CLI and API treat it as unknown instead of failing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdv_studio.core.packaging import BuildOptions, PackageStore, build_package

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"


@pytest.mark.parametrize("damage", [lambda m: m.pop("checksum"), lambda m: m.clear(), lambda m: m.pop("packageId")])
def test_metadata_without_a_field_makes_the_package_unknown(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    store = PackageStore(tmp_path / "store")
    options = BuildOptions(python_versions=["3.11"], platforms=("x86_64",))
    built = build_package(APPS / "light_counter.py", options, store=store)
    meta_path = store.root / f"{built.stored.package_id}.json"
    meta = json.loads(meta_path.read_text())
    damage(meta)
    meta_path.write_text(json.dumps(meta if meta else []))
    assert store.get(built.stored.package_id) is None
    assert store.list() == []
