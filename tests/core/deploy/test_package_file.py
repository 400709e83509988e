"""Reading a package from outside: crafted archives are refused from their headers, within bounded memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdv_studio.core.deploy.package_file import PackageFile, PackageUnreadable, ReadLimits, open_package

MiB = 2**20


def _member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _package(path: Path, files: dict[str, bytes], extra: dict[str, bytes] | None = None) -> Path:
    """A tar.gz with SHA256SUMS over ``files``, plus ``extra`` members it does not list."""
    sums = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(files.items())).encode()
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [("SHA256SUMS", sums), *files.items(), *(extra or {}).items()]:
            info, body = _member(name, data)
            tar.addfile(info, io.BytesIO(body))
    return path


def _zero_bomb(path: Path, sizes: list[int]) -> Path:
    """A tar.gz whose members are all zeros, written without ever holding them: a gzip stream of
    repeated compressed blocks (gzip allows concatenated members; tarfile reads them as one stream)."""
    block = gzip.compress(bytes(MiB), 9)
    with path.open("wb") as out:
        for index, size in enumerate(sizes):
            header = tarfile.TarInfo(f"app/blob{index}.bin")
            header.size = size
            out.write(gzip.compress(header.tobuf(format=tarfile.GNU_FORMAT)))
            whole, rest = divmod(size, MiB)
            out.write(block * whole)
            out.write(gzip.compress(bytes(rest + (-size) % 512)))
        out.write(gzip.compress(bytes(1024)))  # the end-of-archive blocks
    return path


def test_a_package_reads_only_what_its_sums_list(tmp_path: Path) -> None:
    manifest = json.dumps({"name": "demo", "version": "1.0.0"}).encode()
    path = _package(tmp_path / "p.tar.gz", {"manifest.json": manifest, "app/main.py": b"print(1)\n"},
                    extra={"unlisted.bin": b"x" * 1000})
    package = open_package(str(path))
    assert set(package.entries) == {"SHA256SUMS", "manifest.json", "app/main.py"}
    assert package.name == "demo"


def test_a_member_over_the_size_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    path = _zero_bomb(tmp_path / "bomb.tar.gz", [2 * 2**30])  # 2 GiB of zeros in about 2 MB
    with pytest.raises(PackageUnreadable, match=r"blob0\.bin expands to 2147483648 bytes, over the limit"):
        open_package(str(path))


def test_an_archive_expanding_too_far_is_refused_by_its_ratio(tmp_path: Path) -> None:
    path = _zero_bomb(tmp_path / "bomb.tar.gz", [40 * MiB, 40 * MiB])
    with pytest.raises(PackageUnreadable, match="expands over 100 times its size"):
        open_package(str(path))


def test_the_total_and_member_count_are_bounded(tmp_path: Path) -> None:
    files = {f"app/f{i}.py": b"x = 1\n" for i in range(5)}
    path = _package(tmp_path / "many.tar.gz", files)
    with pytest.raises(PackageUnreadable, match="more than 3 entries"):
        PackageFile(path, ReadLimits(members=3)).sums  # noqa: B018
    with pytest.raises(PackageUnreadable, match="expands to more than 20 bytes"):
        PackageFile(path, ReadLimits(total_bytes=20)).sums  # noqa: B018


@pytest.mark.parametrize("name", ["../escape.py", "/etc/passwd", "app/../../x"])
def test_sums_naming_a_path_outside_the_package_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "p.tar.gz"
    sums = f"{'0' * 64}  {name}\n".encode()
    with tarfile.open(path, "w:gz") as tar:
        info, body = _member("SHA256SUMS", sums)
        tar.addfile(info, io.BytesIO(body))
    with pytest.raises(PackageUnreadable, match="SHA256SUMS:1: not a hash and a path inside the package"):
        open_package(str(path))


@pytest.mark.parametrize("manifest", [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"version": "1.0.0"}',
                                      b'{"name": "\\u001b[2J\\u001b[31mowned", "version": "1.0.0"}',
                                      b'{"name": "demo", "version": "../../etc"}'])
def test_a_damaged_manifest_is_unreadable_not_a_crash(tmp_path: Path, manifest: bytes) -> None:
    with pytest.raises(PackageUnreadable, match=r"manifest\.json"):
        open_package(str(_package(tmp_path / "p.tar.gz", {"manifest.json": manifest})))


def test_reading_a_2_gib_bomb_stays_within_200_mb(tmp_path: Path) -> None:
    """The issue's figure: peak memory while refusing the bomb, as the interpreter's own high-water mark
    (VmHWM: ru_maxrss would count the forking test process's memory too)."""
    path = _zero_bomb(tmp_path / "bomb.tar.gz", [400 * MiB] * 5 + [48 * MiB])  # each member under the limit
    code = ("import sys\n"
            "from sdv_studio.core.deploy.package_file import PackageUnreadable, open_package\n"
            "try:\n    open_package(sys.argv[1])\nexcept PackageUnreadable as exc:\n    print('refused:', exc)\n"
            "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
            "print(int(status.split()[0]) // 1024)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    refused, peak_mb = out.stdout.splitlines()
    assert refused.startswith("refused:") and "expands over 100 times its size" in refused
    assert int(peak_mb) <= 200


_NAMES = st.one_of(st.sampled_from(["SHA256SUMS", "manifest.json", "app/main.py", "../up", "/abs", "./manifest.json",
                                    "a//b", "app/./x", ""]), st.text(max_size=12))


@settings(max_examples=400, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_NAMES, st.binary(max_size=64)), max_size=5),
       st.lists(st.tuples(st.sampled_from(["ok", "bad"]), _NAMES), max_size=4),
       st.one_of(st.binary(max_size=40), st.just(b'{"name": "demo", "version": "1.0.0"}')))
def test_any_archive_opens_or_is_unreadable(tmp_path: Path, members: list[tuple[str, bytes]],
                                            listed: list[tuple[str, str]], manifest: bytes) -> None:
    """Hypothesis over the package reader: whatever the members and sums say, opening a package either
    works (and then every entry is a path inside the package) or says why it cannot, in one line."""
    files = dict(members)
    files["manifest.json"] = manifest
    sums = "".join(f"{hashlib.sha256(files.get(name, b'')).hexdigest() if how == 'ok' else 'z' * 64}  {name}\n"
                   for how, name in [*listed, ("ok", "manifest.json")])
    path = tmp_path / "fuzz.tar.gz"
    try:
        with tarfile.open(path, "w:gz") as tar:
            for name, data in [("SHA256SUMS", sums.encode()), *files.items()]:
                info, body = _member(name, data)
                tar.addfile(info, io.BytesIO(body))
    except (ValueError, UnicodeEncodeError):
        return  # a name tar itself cannot store
    try:
        package = open_package(str(path))
    except PackageUnreadable as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc).replace(str(path), "")
        return
    assert all(not n.startswith("/") and ".." not in n.split("/") for n in package.entries)
    assert package.name == "demo"
