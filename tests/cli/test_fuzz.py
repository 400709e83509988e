"""Random command lines get an exit code and plain lines, never a traceback.

Only commands that stay on this machine are fuzzed (package, devices, deployments): anything
that connects to a device, scans or serves is left out, and pip is offline (PIP_NO_INDEX), so a
build either finds its wheels in the cache or fails with a message.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdv_studio.cli import main

pytestmark = pytest.mark.timeout(300)
CASES = 1000

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
_ODD = st.sampled_from(["", "-", "--", "..", "/", "\n", "x" * 300, "-1", "0", "1e309", "nan", "pkg_", "ü", "@", ":22",
                        "a@b@c", "[::1]:0", "192.0.2.1:99999", "3.11", "3.7", "99.1", "x86_64,arm", "512MB", "-0.5"])


def _sources(root: Path) -> list[str]:
    """Files a user might point at, good and bad, made once per run."""
    (root / "app.py").write_text("import time\nwhile True:\n    print('hi')\n    time.sleep(1)\n")
    (root / "broken.py").write_text("def f(:\n")
    (root / "binary.py").write_bytes(b"\xff\xfe\x00\x01")
    (root / "export.json").write_text('{"name": "Lights", "code": "print(1)"}')
    (root / "tree.json").write_text('[{"type": "folder", "name": "p", "items": [{"type": "file", "name": "../x"}]}]')
    (root / "bad.json").write_text("{not json")
    (root / "project").mkdir()
    (root / "project" / "AppManifest.json").write_text("[1, 2")
    (root / "vss.json").write_text('{"Vehicle": {"children": 5}}')
    return [str(root / n) for n in ("app.py", "broken.py", "binary.py", "export.json", "tree.json", "bad.json",
                                    "project", "vss.json", "missing.py")]


def _argv(sources: list[str], out: str) -> st.SearchStrategy[list[str]]:
    value = st.one_of(_TEXT, _ODD, st.sampled_from(sources))
    package_opts = st.lists(st.tuples(st.sampled_from(
        ["--name", "--version", "--description", "--runtime", "--python", "--memory", "--cpu", "--vss", "--platform",
         "--base-image"]), value).map(list), max_size=4).map(lambda pairs: [w for p in pairs for w in p])
    package = st.tuples(st.sampled_from([*sources, "", "-"]), package_opts, st.sampled_from([[], ["--json"]])).map(
        lambda t: ["package", t[0], *t[1], *t[2], "--output", out])
    devices = st.one_of(
        st.tuples(value, st.lists(st.sampled_from(["--id", "--name", "--port", "--user", "--identity"]), max_size=3),
                  st.lists(value, max_size=3)).map(lambda t: ["devices", "add", t[0], *[w for p in zip(t[1], t[2],
                                                                                                          strict=False)
                                                                                        for w in p]]),
        st.tuples(st.sampled_from(["list", "remove"]), st.lists(value, max_size=2)).map(lambda t: ["devices", t[0],
                                                                                                   *t[1]]))
    deployments = st.lists(value, max_size=2).map(lambda rest: ["deployments", *rest])
    # Always a command first: `sdv-studio` alone (or with -v) opens the window.
    noise = st.tuples(st.sampled_from(["package", "devices", "deployments", "--version", "--help"]),
                      st.lists(st.one_of(value, st.sampled_from(["--json", "-v", "--help", "list", "add"])),
                               max_size=5)).map(lambda t: [t[0], *t[1]])
    return st.one_of(package, devices, deployments, noise)


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        yield err


def test_random_command_lines_never_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.chdir(tmp_path)
    sources = _sources(tmp_path)
    out = str(tmp_path / "out")
    os.makedirs(out)
    seen: list[int] = []

    @settings(max_examples=CASES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(_argv(sources, out))
    def run(argv: list[str]) -> None:
        with _captured() as err:
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: --help, --version and usage errors
                code = exc.code if isinstance(exc.code, int) else 2
        assert "Traceback" not in err.getvalue(), (argv, err.getvalue())
        assert code in (0, 1, 2), (argv, code, err.getvalue())
        seen.append(code)

    run()
    assert len(seen) >= CASES and {0, 2} <= set(seen)
