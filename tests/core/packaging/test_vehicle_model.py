"""Naming a VSS catalogue: a release by number or release URL, a path; never a download."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.core.packaging.vehicle_model import ModelError, release_named, resolve_vss, shipped_releases

RELEASES = "https://github.com/COVESA/vehicle_signal_specification/releases/download"


def test_every_release_is_shipped() -> None:
    assert shipped_releases() == ["3.0", "3.1.1", "4.0", "5.1", "6.0"]


@pytest.mark.parametrize(("choice", "release"), [
    ("3.0", "3.0"), ("v4.0", "4.0"), ("5", "5.0"), ("3.1.1", "3.1.1"),
    (f"{RELEASES}/v3.0/vss_rel_3.0.json", "3.0"), (f"{RELEASES}/v3.1.1/vss_rel_3.1.1.json", "3.1.1"),
    (f"{RELEASES}/v4.0/vss_rel_4.0.json", "4.0"), (f"{RELEASES}/v5.1/vss_rel_5.1.json", "5.1"),
    (f"{RELEASES}/v6.0/vss_rel_6.0.json", "6.0"), ("vss_release_6.0.json", "6.0"),
])
def test_release_by_number_or_url(choice: str, release: str) -> None:
    assert release_named(choice) == release
    if release != "5.0":
        path, label = resolve_vss(choice)
        assert (path.name, label) == (f"vss_release_{release}.json", release)


def test_a_path_and_the_default(tmp_path: Path) -> None:
    (tmp_path / "mine.json").write_text("{}")
    assert resolve_vss(str(tmp_path / "mine.json")) == (tmp_path / "mine.json", "mine.json")
    assert resolve_vss(None)[1] == "4.0"  # default.json is VSS 4.0


@pytest.mark.parametrize(("choice", "problem"), [
    ("3.1", "vss: 3.1: not a file, nor one of 3.0, 3.1.1, 4.0, 5.1, 6.0"),
    (f"{RELEASES}/v2.2/vss_rel_2.2.json", f"vss: {RELEASES}/v2.2/vss_rel_2.2.json: not a VSS release SDV Studio "
     "ships (3.0, 3.1.1, 4.0, 5.1, 6.0); URLs are never downloaded: save the catalogue and name its path"),
])
def test_unknown_choices(choice: str, problem: str) -> None:
    with pytest.raises(ModelError) as info:
        resolve_vss(choice)
    assert str(info.value) == problem


def test_a_catalogue_that_cannot_be_read_is_a_model_error_not_a_crash(tmp_path: Path) -> None:
    from sdv_studio.core.packaging.vehicle_model import generated_model

    folder = tmp_path / "vss.json"
    folder.mkdir()  # IsADirectoryError, as a PermissionError would be: an OSError reading it
    with pytest.raises(ModelError, match=r"vss: vss\.json: cannot be read"):
        generated_model(folder)


def test_a_cache_that_cannot_be_written_is_a_model_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sdv_studio.core.packaging import vehicle_model

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "vehicle-models").write_text("a file where the folder goes")  # unwritable even for root
    monkeypatch.setattr(vehicle_model, "tools_root", lambda: cache)
    monkeypatch.setattr(vehicle_model, "_generator", lambda progress: Path("/bin/true"))
    with pytest.raises(ModelError, match="cannot write the vehicle model"):
        vehicle_model.generated_model(vehicle_model.resolve_vss("4.0")[0])
