"""The MQTT broker Velocitas apps need at start-up: amqtt in-process, else Debian's mosquitto."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from sdv_studio.child_env import child_env

log = logging.getLogger(__name__)


class MqttBroker:
    def __init__(self, address: str, port: int) -> None:
        self.address = address
        self.port = port
        self.implementation = ""
        self._amqtt: Any = None
        self._process: asyncio.subprocess.Process | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    async def start(self) -> None:
        try:
            with warnings.catch_warnings():
                # amqtt 0.10 imports pkg_resources, which says on every start that it is deprecated.
                warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
                from amqtt.broker import Broker
        except ImportError:
            await self._start_mosquitto()
            return
        # amqtt logs every half-open or probing connection as an error; keep the console for ours.
        logging.getLogger("amqtt").setLevel(logging.CRITICAL)
        self._amqtt = Broker(_amqtt_config(self.address, self.port))
        await self._amqtt.start()
        self.implementation = "amqtt"

    async def _start_mosquitto(self) -> None:
        binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
        if binary is None:
            raise RuntimeError("no MQTT broker available: install amqtt or mosquitto, or use --no-mqtt")
        self._tmp = tempfile.TemporaryDirectory(prefix="sdv-mqtt-")
        conf = Path(self._tmp.name) / "mosquitto.conf"
        conf.write_text(f"listener {self.port} {self.address}\nallow_anonymous true\npersistence false\n")
        self._process = await asyncio.create_subprocess_exec(
            binary, "-c", str(conf), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            env=child_env(),  # not a frozen bundle's library path
        )
        for _ in range(50):  # up to 5 s for the listener to come up
            try:
                _, writer = await asyncio.open_connection(self.address, self.port)
                writer.close()
                break
            except OSError:
                if self._process.returncode is not None:
                    raise RuntimeError(f"mosquitto exited with status {self._process.returncode}") from None
                await asyncio.sleep(0.1)
        self.implementation = "mosquitto"

    async def stop(self) -> None:
        if self._amqtt is not None:
            await self._amqtt.shutdown()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()
        if self._tmp is not None:
            self._tmp.cleanup()


def _amqtt_config(address: str, port: int) -> dict[str, Any]:
    """One anonymous TCP listener, in the configuration format of the amqtt installed."""
    listeners = {"default": {"type": "tcp", "bind": f"{address}:{port}"}}
    major, minor = (int(part) for part in metadata.version("amqtt").split(".")[:2])
    if (major, minor) >= (0, 11):
        return {"listeners": listeners,
                "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}}
    # 0.10 (Python 3.8 and 3.9 devices) asks every plugin of its entry points unless a section names
    # some. Its topic plugins fail without a topic-check section, and with checking off the ACL one
    # still refuses every topic it has no list for: so checking is on, by no plugin.
    return {"listeners": listeners, "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
            "topic-check": {"enabled": True, "plugins": []}}
