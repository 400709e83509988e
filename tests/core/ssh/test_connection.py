"""The SSH layer against the rig's real sshd: trust on first use, changed keys, auth, errors, SFTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sdv_studio.core.ssh import (
    AuthFailed,
    CommandTimeout,
    HostKeyChanged,
    HostKeyOffer,
    HostKeyTrust,
    HostKeyUnknown,
    KnownHosts,
    SshTarget,
    Timeout,
    Unreachable,
    connect,
    delete_password,
    store_password,
)
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig
T = TypeVar("T")


def on_lan(rig: Rig, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a fresh loop whose thread (and executors) sit in the workstation namespace."""
    with rig.in_workstation():
        return asyncio.run(make())


def host_fingerprint(dev: Device) -> str:
    """What sshd inside the device serves, read inside the device."""
    return dev.run("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[1]


def target(rig: Rig, name: str, **kw: object) -> SshTarget:
    return SshTarget(rig[name].ip, user=rig.user, key_file=rig.key_path, **kw)  # type: ignore[arg-type]


def test_accept_new_trusts_on_first_use_then_known_key_passes(rig: Rig, tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")

    async def go() -> tuple[str, str, str]:
        async with connect(target(rig, "d4"), HostKeyTrust(known, accept_new=True)) as conn:
            first = (await conn.run("hostname")).stdout.strip()
            fp = conn.host_key_fingerprint
        async with connect(target(rig, "d4"), HostKeyTrust(known)) as conn:  # no consent needed now
            second = (await conn.run("id -un")).stdout.strip()
        return first, second, fp

    first, second, fp = on_lan(rig, go)
    assert (first, second) == ("d4", rig.user)
    assert fp == host_fingerprint(rig["d4"])
    assert known.lookup(rig["d4"].ip)


def test_unknown_key_is_refused_with_its_fingerprint(rig: Rig, tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")

    async def go() -> None:
        async with connect(target(rig, "d5"), HostKeyTrust(known)):
            pass

    with pytest.raises(HostKeyUnknown) as err:
        on_lan(rig, go)
    assert err.value.fingerprint == host_fingerprint(rig["d5"])
    assert err.value.fingerprint in str(err.value) and "--accept-new-host-keys" in str(err.value)
    assert not known.path.exists(), "an unknown key was written without consent"


def test_confirm_callback_decides_and_sees_the_fingerprint(rig: Rig, tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    offers: list[HostKeyOffer] = []

    async def answer(value: bool) -> Callable[[HostKeyOffer], Awaitable[bool]]:
        async def confirm(offer: HostKeyOffer) -> bool:
            offers.append(offer)
            await asyncio.sleep(0.05)  # a person takes a moment; the loop keeps running
            return value

        return confirm

    async def go() -> str:
        with pytest.raises(HostKeyUnknown):
            async with connect(target(rig, "d5"), HostKeyTrust(known, confirm=await answer(False))):
                pass
        async with connect(target(rig, "d5"), HostKeyTrust(known, confirm=await answer(True))) as conn:
            return (await conn.run("hostname")).stdout.strip()

    assert on_lan(rig, go) == "d5"
    assert [o.fingerprint for o in offers] == [host_fingerprint(rig["d5"])] * 2
    assert offers[0].host == rig["d5"].ip and offers[0].key_type == "ssh-ed25519"


def test_changed_host_key_is_always_refused_naming_both_fingerprints(rig: Rig, tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    dev = rig["d6"]
    old = host_fingerprint(dev)

    async def trust_first() -> None:
        async with connect(target(rig, "d6"), HostKeyTrust(known, accept_new=True)) as conn:
            await conn.run("true")

    async def again() -> None:
        async with connect(target(rig, "d6"), HostKeyTrust(known, accept_new=True, confirm=_yes)):
            pass

    on_lan(rig, trust_first)
    dev.rotate_host_key()
    new = host_fingerprint(dev)
    assert new != old
    with pytest.raises(HostKeyChanged) as err:
        on_lan(rig, again)
    assert (err.value.old, err.value.new) == (old, new)
    assert old in str(err.value) and new in str(err.value) and str(known.path) in str(err.value)
    assert len(known.lookup(dev.ip)) == 1, "the trusted key must stay, and the new one not be added"
    assert "HOST KEY CHANGED" in str(err.value)


async def _yes(offer: HostKeyOffer) -> bool:
    return True


def test_refused_key_is_auth_failed_and_a_keyring_password_gets_in(rig: Rig, tmp_path: Path) -> None:
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
    dev = rig["d8"]

    async def login() -> str:
        async with connect(target(rig, "d8"), trust) as conn:
            return (await conn.run("id -un")).stdout.strip()

    with pytest.raises(AuthFailed) as err:
        on_lan(rig, login)
    assert str(rig.key_path) in str(err.value) and "authorized_keys" in str(err.value)
    store_password(rig.user, dev.ip, 22, rig.password)
    try:
        assert on_lan(rig, login) == rig.user
    finally:
        delete_password(rig.user, dev.ip, 22)


def test_unreachable_and_timeout_are_told_apart(rig: Rig, tmp_path: Path) -> None:
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)

    async def closed_port() -> None:
        async with connect(target(rig, "d4", port=2222), trust, timeout=3):
            pass

    async def nobody_there() -> None:  # in the rig's /24, but no device: ARP never answers
        async with connect(SshTarget("198.18.0.200", user=rig.user, key_file=rig.key_path), trust, timeout=0.5):
            pass

    with pytest.raises(Unreachable) as err:
        on_lan(rig, closed_port)
    assert "refused" in str(err.value).lower()
    with pytest.raises(Timeout):
        on_lan(rig, nobody_there)


def test_run_streams_stdin_stderr_exit_status_and_times_out(rig: Rig, tmp_path: Path) -> None:
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)

    async def go() -> None:
        async with connect(target(rig, "d4"), trust) as conn:
            result = await conn.run("cat; echo oops >&2; exit 3", stdin=b"hello")
            assert (result.exit_status, result.stdout, result.stderr, result.ok) == (3, "hello", "oops\n", False)
            big = await conn.run("head -c 3000000 /dev/zero | tr '\\0' x; head -c 3000000 /dev/zero >&2")
            assert len(big.stdout) == 3_000_000 and len(big.stderr) == 3_000_000
            with pytest.raises(CommandTimeout):
                await conn.run("sleep 5", timeout=0.5)
            # several commands at once on one connection (the deploy engine runs them in parallel)
            outs = await asyncio.gather(*(conn.run(f"echo {i}") for i in range(4)))
            assert [o.stdout.strip() for o in outs] == ["0", "1", "2", "3"]

    on_lan(rig, go)


def test_a_command_on_a_lost_connection_ends_at_once(rig: Rig, tmp_path: Path) -> None:
    """Not at its timeout, spinning a core meanwhile (a closed channel is always 'ready' to select)."""
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)

    async def go() -> float:
        async with connect(target(rig, "d4"), trust) as conn:
            running = asyncio.create_task(conn.run("sleep 30", timeout=120))
            await asyncio.sleep(0.5)
            conn.transport.close()
            started = asyncio.get_running_loop().time()
            with pytest.raises(Unreachable, match="connection lost"):
                await asyncio.wait_for(running, 10)
            return asyncio.get_running_loop().time() - started

    assert on_lan(rig, go) < 10  # a bound on a hang, not a timing assertion


def test_sftp_round_trip(rig: Rig, tmp_path: Path) -> None:
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
    local = tmp_path / "payload.bin"
    local.write_bytes(bytes(range(256)) * 100)

    async def go() -> None:
        async with connect(target(rig, "d5"), trust) as conn:
            sftp = await conn.sftp()
            await sftp.makedirs("apps/demo/v1")
            await sftp.put(local, "apps/demo/v1/payload.bin")
            await sftp.write_bytes("apps/demo/v1/run.sh", b"#!/bin/sh\necho ran\n", mode=0o755)
            assert await sftp.read_bytes("apps/demo/v1/payload.bin") == local.read_bytes()
            await sftp.get("apps/demo/v1/run.sh", tmp_path / "run.sh")
            await sftp.close()
            assert (await conn.run("apps/demo/v1/run.sh")).stdout == "ran\n"

    on_lan(rig, go)
    assert (tmp_path / "run.sh").read_bytes() == b"#!/bin/sh\necho ran\n"


def test_a_connect_given_up_mid_handshake_leaves_no_transport_running(rig: Rig, tmp_path: Path) -> None:
    """A cancelled scan probe: its handshake thread runs on, and the transport it makes is closed."""
    import threading

    import paramiko

    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)

    def transports() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if isinstance(t, paramiko.Transport) and t.is_alive()}

    async def go() -> int:
        before = transports()  # other tests' connections may still be closing: count only ours
        for delay in (0.0, 0.002, 0.005, 0.01, 0.02):  # somewhere inside the handshake
            attempt = asyncio.create_task(connect(target(rig, "d4"), trust).__aenter__())
            await asyncio.sleep(delay)
            attempt.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                conn = await attempt
                conn.close()  # it finished before the cancel landed: close it as its owner would
        deadline = asyncio.get_running_loop().time() + 10
        while transports() - before and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return len(transports() - before)

    assert on_lan(rig, go) == 0
