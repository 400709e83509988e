"""The wizard's state: the Kuksa step's choices and whether the built package carries them (no Qt)."""

from __future__ import annotations

from pathlib import Path

from sdv_studio.core.packaging import BuildOptions, BuildResult, StoredPackage
from sdv_studio.core.packaging.flavour import Flavour
from sdv_studio.core.packaging.sources import source_from_code
from sdv_studio.gui.state import DeploymentState


def _built(kuksa_config: object) -> BuildResult:
    stored = StoredPackage(package_id="pkg_0123456789abcdef", path=Path("app.tar.gz"), checksum="sha256:0",
                           size=1, created_at="2026-01-01T00:00:00Z", name="app", version="1.0.0")
    return BuildResult(stored=stored, path=stored.path, manifest={"kuksaConfig": kuksa_config}, flavour=Flavour.KUKSA)


def _state(kuksa_config: object) -> DeploymentState:
    return DeploymentState(source=source_from_code("print('hi')\n", "app"), options=BuildOptions(),
                           app_package=_built(kuksa_config))


def test_choices_the_package_carries_need_no_rebuild() -> None:
    state = _state({"vssVersion": "4.0", "fallbackBroker": True})
    state.choose_kuksa(" 10.0.0.5:55555 ", True, "4.0")
    assert state.kuksa_rebuild() is None
    assert state.broker_address() == "10.0.0.5:55555"  # wired at deploy time, not carried by the package


def test_changed_choices_rebuild_with_options_that_carry_them() -> None:
    state = _state({"vssVersion": "4.0", "fallbackBroker": True})
    state.choose_kuksa("", False, "6.0")
    assert state.kuksa_rebuild() == "VSS 6.0, fallback databroker off"
    assert state.options is not None
    assert (state.options.vss, state.options.fallback_broker) == ("6.0", False)


def test_a_package_without_kuksa_config_is_built_again_and_nothing_to_build_from_is_not() -> None:
    assert _state(None).kuksa_rebuild() == "VSS 4.0, fallback databroker on"
    state = _state({"vssVersion": "5.0"})
    state.source = None
    assert state.kuksa_rebuild() is None
