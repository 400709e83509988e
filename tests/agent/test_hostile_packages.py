"""Crafted packages and requests: nothing they carry can stop the running version or write outside
the app's store."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent


def _crafted(tmp_path: Path, label: str, manifest: dict | None = None, launch: dict | None = None) -> Path:
    """A package whose manifest/launch fields are overridden, with SHA256SUMS that match them."""
    files = pkgbuild.package_files("demo", "2.0.0")
    for name, changes in (("manifest.json", manifest), ("launch.json", launch)):
        if changes:
            files[name] = json.dumps(dict(json.loads(files[name]), **changes)).encode()
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n"
                                  for path, data in sorted(files.items()) if path != "SHA256SUMS").encode()
    return pkgbuild.write_package(tmp_path / f"{label}.tar.gz", files)


def _running(agent: Agent) -> dict:
    app = agent.run("status", {"name": "demo"})["apps"][0]
    assert app["status"] == "running", app
    return app


@pytest.mark.parametrize("version", ["/tmp/sdv-escape/abs", "../..", "../../../escape", "1.0.0/../../x", "1.0.0\n"])
def test_a_version_that_is_a_path_is_refused_and_nothing_lands_outside(agent: Agent, tmp_path: Path,
                                                                        version: str) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    before = _running(agent)
    crafted = _crafted(tmp_path, "bad-version", {"version": version})
    outside = {p for p in agent.home.parent.rglob("*") if agent.base not in p.parents}

    refused = agent.run("deploy", dict(FAST, package=str(crafted)), expect_ok=False)
    assert refused["exitCode"] == 1 and "version: must be a semantic version" in refused["error"], refused
    assert _running(agent)["pid"] == before["pid"]
    assert {p for p in agent.home.parent.rglob("*") if agent.base not in p.parents} == outside
    assert not Path("/tmp/sdv-escape").exists()


@pytest.mark.parametrize("env", [{"BAD=KEY": "1"}, {"OK": "nul\x00inside"}])
def test_an_environment_the_os_cannot_take_is_refused_before_the_old_version_stops(
        agent: Agent, tmp_path: Path, env: dict) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    before = _running(agent)
    refused = agent.run("deploy", dict(FAST, package=str(_crafted(tmp_path, "bad-env", launch={"env": env}))),
                        expect_ok=False)
    assert "launch.json: env" in refused["error"], refused
    assert _running(agent)["pid"] == before["pid"]


def test_a_spawn_the_os_refuses_rolls_back_to_the_previous_version(agent: Agent, tmp_path: Path) -> None:
    """Settings sent with the request reach the process environment unvalidated by the package:
    Popen's ValueError must count as a failed start, and the stopped old version come back."""
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    failed = agent.run("deploy", dict(FAST, env={"BAD=KEY": "1"},
                                      package=str(pkgbuild.build(tmp_path, "demo", "2.0.0"))), expect_ok=False)
    assert failed["rolledBack"] is True and failed["rolledBackTo"].startswith("1.0.0-"), failed
    assert _running(agent)["version"] == "1.0.0"


@pytest.mark.parametrize("release", ["../../escape", "..", "a/b"])
def test_a_release_name_from_a_request_cannot_name_a_path(agent: Agent, tmp_path: Path, release: str) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    refused = agent.run("deploy", dict(FAST, name="demo", release=release), expect_ok=False)
    assert refused["exitCode"] == 2 and "release:" in refused["error"], refused


def test_a_socket_folder_someone_else_made_in_tmp_is_refused(tmp_path: Path) -> None:
    """A home deep enough that the supervisor's socket moves to the shared temp folder."""
    deep = Agent(tmp_path / ("deep-" * 20), sys.executable)
    try:
        tag = hashlib.sha1(str(deep.base).encode()).hexdigest()[:12]
        planted = Path(tempfile.gettempdir()) / f"sdv-agent-{os.getuid()}-{tag}"
        planted.mkdir(mode=0o777)
        planted.chmod(0o777)
        try:
            refused = deep.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))),
                               expect_ok=False)
            assert "not a private folder of this user" in refused["error"], refused
        finally:
            planted.rmdir()
        deep.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.1"))))
        assert stat.S_IMODE(planted.stat().st_mode) == 0o700
    finally:
        deep.cleanup()
