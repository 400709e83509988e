"""Hypothesis over the workstation's readers of what users and colleagues hand over: AppManifest.json
(JSONC), playground exports and app source. Whatever the input, a reader either returns or raises its
own error with lines a person can read; never anything else (the faces turn those errors into exit 2 /
4xx, anything else would be a traceback or a 500)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdv_studio.core.packaging.appmanifest import ManifestError, parse_app_manifest
from sdv_studio.core.packaging.sources import SourceError, source_from_code, source_from_playground

# The strategies' own repr is long; hypothesis warns about it, which says nothing about the readers.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
EXAMPLES = 400  # per reader; with the package and agent readers' fuzz, over 2,000 a run
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)
# What playground exports and manifests are made of, so generated inputs get past the first check.
_KEYS = st.sampled_from(["type", "name", "items", "content", "code", "folder", "file", "main.py", "requirements.txt",
                         "description", "vehicleModel", "src", "interfaces", "../x", "", "/abs"])
_SHAPED = st.recursive(
    st.none() | st.text(max_size=30) | _KEYS | st.integers(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5), max_leaves=25)


def _lines_ok(problems: list[str]) -> None:
    assert problems and all(isinstance(p, str) and p and "\n" not in p for p in problems)


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                 _SHAPED.map(lambda v: json.dumps(v).encode()),
                 st.tuples(_SHAPED, st.sampled_from(["// c\n", "/* c */", ",", "\ufeff", "/*", "\""])).map(
                     lambda t: (t[1] + json.dumps(t[0]) + t[1]).encode())))
def test_app_manifest_reader(data: bytes) -> None:
    try:
        parse_app_manifest(data, "AppManifest.json")
    except ManifestError as exc:
        _lines_ok(exc.problems)
        assert all(p.startswith("AppManifest.json") for p in exc.problems)


@FUZZ
@given(st.one_of(_SHAPED, _JSON, st.fixed_dictionaries({"name": st.text(max_size=20), "code": _SHAPED}),
                 st.fixed_dictionaries({"code": _SHAPED.map(json.dumps)})))
def test_playground_export_reader(data: Any) -> None:
    try:
        source = source_from_playground(data)
    except SourceError as exc:
        _lines_ok(exc.problems)
    else:
        assert source.entry_point in source.files


@FUZZ
@given(st.one_of(st.text(max_size=300), st.sampled_from(["def f(:\n", "import vehicle\n", "\x00", "async def main():"
                                                         "\n    await x\n", "from sdv.vehicle_app import VehicleApp"])))
def test_app_source_reader(code: str) -> None:
    try:
        source = source_from_code(code)
    except SourceError as exc:
        _lines_ok(exc.problems)
    else:
        assert source.files[source.entry_point].decode() == code
