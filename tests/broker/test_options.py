"""The broker's options: the VSS catalogue it serves when --vss names none."""

from __future__ import annotations

import argparse
import io
import sys
import zipfile

import pytest

import sdv_studio
from sdv_studio import shipped
from sdv_studio.broker import options
from sdv_studio.core.device_wheels.broker_bundle import broker_wheel


def _parsed(*argv: str) -> tuple[object, list[str]]:
    parser = argparse.ArgumentParser()
    options.add_arguments(parser)
    return options.options_from_args(parser.parse_args(argv))


def test_without_vss_the_shipped_default_catalogue_is_served() -> None:
    parsed, problems = _parsed()
    assert problems == []
    assert isinstance(parsed, options.BrokerOptions) and parsed.vss_path == shipped.default_vss()
    assert parsed.vss_path.is_file()


def test_a_broker_only_install_asks_for_vss(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a device, whose broker wheel carries sdv_studio.broker but not sdv_studio.shipped.
    wheel = zipfile.ZipFile(io.BytesIO(broker_wheel()[1]))
    assert "sdv_studio/shipped.py" not in wheel.namelist()
    monkeypatch.delattr(sdv_studio, "shipped", raising=False)
    monkeypatch.setitem(sys.modules, "sdv_studio.shipped", None)
    assert _parsed() == (None, ["--vss: required: this install of the broker ships no VSS catalogue"])
    parsed, problems = _parsed("--vss", str(shipped.default_vss()))
    assert problems == [] and parsed is not None
