"""`deploy --broker-token-file/--broker-ca`: files that are not a token or a CA are invalid input
(exit 2), each named by option and file, before any device is contacted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.broker.helpers import tls_files
from tests.locations import REPO


def _deploy(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sdv_studio", "deploy", "pkg_0123456789abcdef",
                           "--device", "127.0.0.1:1", *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, SDV_STUDIO_HOME=str(home)), cwd=REPO, check=False)


def test_a_token_file_that_holds_no_jwt_and_a_ca_that_is_no_certificate_are_refused(tmp_path: Path) -> None:
    token, ca = tmp_path / "token", tmp_path / "ca.pem"
    token.write_text("password123\n")
    ca.write_text("not a certificate")
    done = _deploy(tmp_path, "--broker-token-file", str(token), "--broker-ca", str(ca))
    assert done.returncode == 2, done.stderr
    assert f"--broker-token-file: {token}: is not a JWT" in done.stderr
    assert f"--broker-ca: {ca}: is not a PEM certificate" in done.stderr
    assert "Traceback" not in done.stderr


def test_files_that_cannot_be_read_are_named(tmp_path: Path) -> None:
    cert, _key = tls_files(tmp_path)
    done = _deploy(tmp_path, "--broker-token-file", str(tmp_path / "missing"), "--broker-ca", str(cert))
    assert done.returncode == 2
    assert f"--broker-token-file: {tmp_path / 'missing'}: No such file or directory" in done.stderr
    assert "--broker-ca" not in done.stderr  # a real certificate is accepted
