"""Hypothesis over the agent's readers of what arrives on a device: manifest.json, launch.json and
SHA256SUMS. Whatever their bytes, the agent refuses with its own error (a one-line reason) or reads
values it can use safely: a name and version that stay inside the app's store, an argv and env the
OS can spawn (the rollback's promise rests on failing here, not at spawn)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdv_studio.agent.sdvagent import package
from sdv_studio.agent.sdvagent.errors import AgentError

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
FUZZ = settings(max_examples=400, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12) |
                      st.sampled_from(["../..", "/tmp/x", "1.0.0", "demo", "a=b", "x\x00y", "python3", "{python}"]),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3), max_leaves=10)
_MANIFEST = st.one_of(_VALUE, st.fixed_dictionaries({"name": _VALUE, "version": _VALUE}))
_LAUNCH = st.one_of(_VALUE, st.fixed_dictionaries({"argv": _VALUE, "env": _VALUE}),
                    st.fixed_dictionaries({"argv": st.lists(st.text(max_size=8), max_size=3),
                                           "env": st.dictionaries(st.text(max_size=6), st.text(max_size=6))}))


def _write(folder: Path, name: str, value: Any) -> None:
    (folder / name).write_bytes(value if isinstance(value, bytes) else json.dumps(value).encode())


@FUZZ
@given(st.one_of(_MANIFEST, st.binary(max_size=40)), st.one_of(_LAUNCH, st.binary(max_size=40)))
def test_package_info_reader(tmp_path: Path, manifest: Any, launch: Any) -> None:
    _write(tmp_path, "manifest.json", manifest)
    _write(tmp_path, "launch.json", launch)
    try:
        info = package.PackageInfo(str(tmp_path))
    except AgentError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert "/" not in info.name and ".." not in info.version and not info.version.startswith("/")
    for key, value in (info.launch.get("env") or {}).items():
        assert "=" not in key and "\x00" not in key + value
    assert all("\x00" not in arg for arg in info.launch["argv"])


@FUZZ
@given(st.lists(st.one_of(
    st.tuples(st.text("0123456789abcdef", min_size=64, max_size=64), st.text(max_size=20)).map("  ".join),
    st.sampled_from(["", "x", f"{'a' * 64}  ../up", f"{'a' * 64}  /abs", f"{'a' * 64}  ok/file.py"]),
    st.text(max_size=80)), max_size=6).map("\n".join))
def test_sums_reader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "SHA256SUMS"
    try:
        path.write_text(text, encoding="utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates cannot reach a file
    try:
        sums = package.parse_sums(str(path))
    except (AgentError, UnicodeDecodeError) as exc:
        assert str(exc)
        return
    root = os.path.realpath(tmp_path)
    for name in sums:
        assert os.path.realpath(os.path.join(root, name)).startswith(root + os.sep)
