"""`sdv-studio serve`: loopback unless told otherwise and then only with TLS; a token generated once;
the "listening" line; a clean stop on SIGTERM."""

from __future__ import annotations

import datetime
import ipaddress
import os
import selectors
import signal
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sdv_studio.cli import main

TOKEN = "serve-test-token-0123456789"


@pytest.mark.parametrize(("argv", "line"), [
    (["--address", "198.18.0.1"], "--address 198.18.0.1: not a loopback address; serving other machines needs "
                                  "--allow-remote with --tls-cert and --tls-private-key"),
    (["--address", "198.18.0.1", "--allow-remote"], "--allow-remote: 198.18.0.1 needs TLS (--tls-cert and "
                                                    "--tls-private-key)"),
    (["--address", "example.org"], "--address example.org: not a loopback address; serving other machines needs "
                                   "--allow-remote with --tls-cert and --tls-private-key"),
    (["--token", "short"], "--token: at least 16 characters"),
    (["--port", "70000"], "--port 70000: must be 0-65535"),
    (["--tls-cert", "/nonexistent.pem"], "--tls-cert and --tls-private-key: give both or neither"),
    (["--cors-origin", "https://digital.auto/"], "--cors-origin https://digital.auto/: not an origin like "
                                                 "https://host[:port] (or '*')"),
    (["--cors-origin", "digital.auto"], "--cors-origin digital.auto: not an origin like https://host[:port] (or '*')"),
], ids=["remote", "remote-no-tls", "hostname", "token", "port", "half-tls", "origin-path", "origin-no-scheme"])
def test_refused_options(argv: list[str], line: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", *argv]) == 2
    assert line in capsys.readouterr().err.splitlines()


def test_bad_tls_files_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    argv = ["serve", "--allow-remote", "--address", "198.18.0.1", "--tls-cert", str(junk), "--tls-private-key",
            str(junk)]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("--tls-cert/--tls-private-key: cannot use them")


@contextmanager
def serving(home: Path, *argv: str) -> Iterator[str]:
    """The command in a child process; yields its "listening" line, then stops it with SIGTERM."""
    env = {**os.environ, "SDV_STUDIO_HOME": str(home)}
    process = subprocess.Popen([sys.executable, "-m", "sdv_studio", "serve", "--port", "0", *argv], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
        assert selector.select(timeout=90), "no output from sdv-studio serve"
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert "listening" in line, (line, process.stderr.read() if process.poll() is not None else "")  # type: ignore[union-attr]
        yield line
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, process.stderr.read()  # type: ignore[union-attr]


def _url(line: str) -> str:
    return next(word for word in line.split() if word.startswith(("http://", "https://")))


def test_serves_with_a_generated_token(tmp_path: Path) -> None:
    with serving(tmp_path) as line:
        token_file = tmp_path / "config" / "api-token"
        assert f"bearer token in {token_file}" in line
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        url = _url(line)
        assert url.startswith("http://127.0.0.1:")
        token = token_file.read_text().strip()
        assert httpx.get(f"{url}/api/openapi.json").status_code == 401
        assert httpx.get(f"{url}/api/openapi.json", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_serves_cors_origins(tmp_path: Path) -> None:
    with serving(tmp_path, "--token", TOKEN, "--cors-origin", "https://digital.auto",
                 "--cors-origin", "http://127.0.0.1:3000") as line:
        url = _url(line)
        for origin in ("https://digital.auto", "http://127.0.0.1:3000"):
            preflight = httpx.options(f"{url}/api/deployments", headers={
                "Origin": origin, "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization"})
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == origin
        response = httpx.get(f"{url}/api/deployments", headers={"Origin": "https://digital.auto"})
        assert response.status_code == 401  # the page still needs the token


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_serves_tls_with_a_given_token(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with serving(tmp_path, "--token", TOKEN, "--allow-remote", "--tls-cert", str(cert), "--tls-private-key",
                 str(key)) as line:
        assert "bearer token given with --token" in line
        url = _url(line)
        assert url.startswith("https://127.0.0.1:")
        with httpx.Client(verify=ssl.create_default_context(cafile=str(cert))) as client:
            response = client.get(f"{url}/api/deployments", headers={"Authorization": f"Bearer {TOKEN}"})
            assert response.status_code == 200 and response.json() == {"deployments": []}
        assert not (tmp_path / "config" / "api-token").exists()  # a given token is not written anywhere


def test_serves_with_a_token_from_a_file_that_never_shows_in_the_process_list(tmp_path: Path) -> None:
    given = tmp_path / "token"
    given.write_text(TOKEN + "\n")
    with serving(tmp_path, "--token-file", str(given)) as line:
        assert f"bearer token from {given}" in line
        url = _url(line)
        assert httpx.get(f"{url}/api/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        cmdlines = [p.read_bytes() for p in Path("/proc").glob("[0-9]*/cmdline") if p.exists()]
        assert not any(TOKEN.encode() in c for c in cmdlines)
        assert not (tmp_path / "config" / "api-token").exists()


@pytest.mark.parametrize(("content", "line"), [
    (None, "No such file or directory"), ("short\n", "--token-file: at least 16 characters"),
    ("x" * 5000, "larger than 4096 bytes")])
def test_refused_token_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
                             line: str) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    assert main(["serve", "--token-file", str(path)]) == 2
    assert line in capsys.readouterr().err
