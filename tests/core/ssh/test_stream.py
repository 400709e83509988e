"""A command kept running on an SSH channel, against the rig's real sshd: lines both ways, its end,
and a write stuck on a dead link that abort frees (close never hangs)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sdv_studio.core.ssh import CommandTimeout, HostKeyTrust, KnownHosts, Unreachable, connect
from tests.core.ssh.test_connection import on_lan, target
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig


def test_lines_go_both_ways_until_stdin_ends(rig: Rig, tmp_path: Path) -> None:
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)

    async def go() -> tuple[list[str | None], list[str | None], str]:
        async with connect(target(rig, "d4"), trust) as conn:
            stream = await conn.start('echo ready; while read -r line; do echo "got $line"; done')
            seen = [await stream.readline(10)]
            await stream.send(b"one\ntwo\n")
            seen += [await stream.readline(10), await stream.readline(10)]
            with pytest.raises(CommandTimeout):
                await stream.readline(0.3)  # nothing more comes until we say something
            await stream.close()
            failing = await conn.start("echo partial; echo 'python3: not found' >&2; exit 127")
            ended = [await failing.readline(10), await failing.readline(10), await failing.readline(10)]
            await failing.close()
            return seen, ended, failing.stderr_tail()

    seen, ended, err = on_lan(rig, go)
    assert seen == ["ready", "got one", "got two"]
    assert ended == ["partial", None, None] and err == "python3: not found"  # the end, and why


def test_a_send_stuck_on_a_dead_link_is_freed_by_abort(rig: Rig, tmp_path: Path) -> None:
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
    device = rig["d5"]

    async def go() -> None:
        async with connect(target(rig, "d5"), trust) as conn:
            stream = await conn.start("sleep 60")  # reads nothing: the bytes pile up, then the link dies
            device.link(False)
            try:
                send = asyncio.ensure_future(stream.send(b"\0" * (16 << 20)))
                done, _ = await asyncio.wait({send}, timeout=3)
                assert not done, "16 MB went out over a cut link"
                stream.abort()
                with pytest.raises((OSError, EOFError, Unreachable)):
                    await asyncio.wait_for(send, 10)  # the stuck write fails instead of waiting for ever
                await asyncio.wait_for(stream.close(), 10)
            finally:
                device.link(True)

    on_lan(rig, go)
