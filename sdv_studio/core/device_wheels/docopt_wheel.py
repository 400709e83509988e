"""docopt as a wheel, for amqtt 0.10: the MQTT broker that Python 3.8 and 3.9 devices get.

amqtt 0.10 requires docopt (for its command-line scripts, which the broker never runs), and docopt
was only ever published as a source distribution, while the broker bundle is vendored with
``pip download --only-binary=:all:``. So its wheel is built once, on this workstation, from the
sdist, into the wheel cache's files folder, where that download finds it (``--find-links``).
"""

from __future__ import annotations

from pathlib import Path

from sdv_studio.core.packaging import wheels
from sdv_studio.core.packaging.sdist_wheels import SdistBuildFailed, pure_wheel

VERSION = "0.6.2"
WHEEL = f"docopt-{VERSION}-py2.py3-none-any.whl"
# The build starts from exactly the sdist on PyPI.
_SDIST_SHA256 = "49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491"


def docopt_wheel() -> Path:
    """The cached wheel, built first when missing. Blocking; raises ``wheels.WheelError`` when it is
    not cached and cannot be built (offline: the build needs PyPI once)."""
    root = wheels.cache_root()
    target = root / "files" / WHEEL
    if target.is_file():
        return target
    try:
        built = pure_wheel(f"docopt=={VERSION} --hash=sha256:{_SDIST_SHA256}", root)
    except SdistBuildFailed as exc:
        raise _failure(str(exc)) from exc
    if built != target:
        raise _failure(f"the build made {built.name if built else 'no pure-Python wheel'}, not {WHEEL}")
    return target


def _failure(detail: str) -> wheels.WheelError:
    return wheels.WheelError([
        f"docopt {VERSION} (needed by amqtt 0.10, the MQTT broker for Python 3.8 and 3.9 devices): "
        f"its wheel is not in the wheel cache ({wheels.cache_root() / 'files'}) and building it from "
        f"its sdist, which needs PyPI once, failed: {detail}"
    ])
