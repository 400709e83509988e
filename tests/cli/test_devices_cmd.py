"""`sdv-studio devices list/add/remove` (in-process: the test keyring lives in this process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdv_studio.cli import main
from sdv_studio.core.ssh import load_password


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path))
    return tmp_path


def listed(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert main(["devices", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)["devices"]


def test_add_edit_list_remove(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = home / "id_test"
    key.write_text("not checked here")
    assert main(["devices", "add", "nvidia@10.20.0.5:2222", "--id", "orin", "--identity", str(key)]) == 0
    assert "saved orin (10.20.0.5:2222)" in capsys.readouterr().out
    assert main(["devices", "add", "10.20.0.5", "--id", "orin", "--name", "Orin on the bench"]) == 0
    [orin] = listed(capsys)
    assert (orin["name"], orin["user"], orin["port"], orin["keyFile"], orin["hasPassword"]) == (
        "Orin on the bench", "nvidia", 2222, str(key), False)
    assert main(["devices", "add", "root@10.20.0.5:2222"]) == 0  # the saved device at this address
    assert "updated orin (10.20.0.5:2222)" in capsys.readouterr().out
    assert [(d["id"], d["user"]) for d in listed(capsys)] == [("orin", "root")]
    assert main(["devices", "add", "ecu.local"]) == 0
    assert [d["id"] for d in listed(capsys)] == ["orin", "ecu-local"]
    assert main(["devices", "list"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["ID", "NAME", "ADDRESS", "USER", "KEY", "PASSWORD", "TAGS", "LAST", "SEEN"]
    assert main(["devices", "remove", "orin"]) == 0
    assert [d["id"] for d in listed(capsys)] == ["ecu-local"]


def test_a_saved_device_opts_in_to_mdns_advertising(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sdv_studio.core.deploy.targets import resolve_device

    assert main(["devices", "add", "10.20.0.7", "--id", "bench-7"]) == 0
    assert listed(capsys)[0]["advertise"] is False and resolve_device("bench-7").advertise is False  # opt-in
    assert main(["devices", "add", "10.20.0.7", "--id", "bench-7", "--advertise"]) == 0
    assert listed(capsys)[0]["advertise"] is True and resolve_device("bench-7").advertise is True
    assert main(["devices", "add", "10.20.0.7", "--id", "bench-7", "--no-advertise"]) == 0
    assert listed(capsys)[0]["advertise"] is False


def test_tags_group_devices_for_device_options(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sdv_studio.core.deploy.targets import resolve_devices

    assert main(["devices", "add", "10.20.0.11", "--id", "orin-1", "--tag", "bench", "--tag", "orin"]) == 0
    assert main(["devices", "add", "10.20.0.12", "--id", "pi", "--tag", "bench"]) == 0
    assert main(["devices", "add", "10.20.0.12", "--id", "pi", "--tag", "campaign"]) == 0  # adds to its tags
    assert [d["tags"] for d in listed(capsys)] == [["bench", "orin"], ["bench", "campaign"]]
    assert main(["devices", "list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert [row[6] for row in rows] == ["bench,orin", "bench,campaign"]
    assert [r.device_id for r in resolve_devices(["tag:bench"])] == ["orin-1", "pi"]

    assert main(["devices", "untag", "orin-1", "bench"]) == 0
    assert "orin-1: tags orin" in capsys.readouterr().out
    assert main(["devices", "tag", "pi", "orin", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tags"] == ["bench", "campaign", "orin"]
    assert [r.device_id for r in resolve_devices(["tag:bench"])] == ["pi"]
    assert main(["devices", "untag", "pi", "nope"]) == 2
    assert capsys.readouterr().err == "tag 'nope': pi does not have it\n"


def test_password_is_prompted_and_kept_only_in_the_keyring(home: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: "typed-secret")
    assert main(["devices", "add", "sdv@10.20.0.9", "--id", "lab", "--ask-password"]) == 0
    assert listed(capsys)[0]["hasPassword"] is True
    assert load_password("sdv", "10.20.0.9", 22) == "typed-secret"
    assert "typed-secret" not in "".join(p.read_text() for p in home.rglob("*") if p.is_file())
    assert main(["devices", "remove", "lab"]) == 0
    assert load_password("sdv", "10.20.0.9", 22) is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["devices", "remove", "nope"], "nope: no saved device with this id"),
        (["devices", "add", "a@b@c"], "'a@b@c': expected [USER@]HOST[:PORT]"),
        (["devices", "add", "h", "--identity", "/nonexistent"], "--identity /nonexistent: no such file"),
        # The home of a user who does not exist: pathlib raises RuntimeError on expanding it.
        (["devices", "add", "h", "--identity", "~no-such-user-x/id"], "--identity ~no-such-user-x/id: no such"),
        (["devices", "add", "h", "--id", "Bad Id"], "id 'Bad Id': must be lowercase letters"),
        (["devices"], "devices: say list, add, remove, tag or untag"),
        (["devices", "add", "h", "--tag", "ok", "--tag", "Not Ok"], "tag 'Not Ok': must be lowercase letters"),
        (["devices", "tag", "nope", "bench"], "nope: no saved device with this id"),
    ],
)
def test_invalid_input_exits_2(home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(message)


def test_password_is_never_an_option(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["devices", "add", "h", "--password", "x"])
    assert exit_.value.code == 2
