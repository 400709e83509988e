"""What one rig device is: its spec, its private folders, and the script that boots it.

A device is a network namespace plus a private mount and UTS namespace in which
OpenSSH's sshd runs as the device's "init". Its /etc is an overlay over the host's
(login user, host keys, sshd config, optional Jetson persona and engine config);
/home, /tmp and /run are its own folders; with an engine, podman serves the Docker
API on /run/docker.sock. With ``read_only_root`` the rest of this machine's root is
mounted read-only in the device, so many devices share it without being able to change it.

A foreign device (``suite`` set) runs another Debian instead: its whole root is an
overlay on a cached root filesystem of that suite (tests/rig/roots.py), with its own
/dev, /proc, /sys, /tmp and /run, and sshd runs chrooted into it.
"""

from __future__ import annotations

import functools
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LOGIN_USER = "sdv"
LOGIN_UID = 2000
LOGIN_PASSWORD = "sdv-rig-password"
JETSON_RELEASE = (
    "# R36 (release), REVISION: 3.0, GCID: 36923193, BOARD: generic, EABI: aarch64, "
    "DATE: Fri Jul 19 23:24:25 UTC 2024\n"
)
# The device files a foreign device's /dev gets from the host's.
DEV_NODES = "null zero full random urandom tty"
# cron's spool of users' crontabs (when cron is installed): each device gets its own.
CRONTABS = Path("/var/spool/cron/crontabs")
CGROUP_V1 = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"]


@dataclass(frozen=True)
class DeviceSpec:
    name: str
    ip: str
    jetson: bool = False
    engine: bool = False
    # False: the login user's key is not authorized (the device refuses it).
    authorized: bool = True
    # A Debian suite (bullseye, trixie): a foreign device whose root is that Debian's, not this machine's.
    suite: str | None = None
    # A tmpfs of this size (mount's units: "64m") as the login user's home, so it can fill up.
    home_size: str | None = None
    # Mount this machine's root read-only in the device (its own /etc, /home, /tmp and /run stay
    # writable): many devices then share one root image none of them can change.
    read_only_root: bool = False

    def __post_init__(self) -> None:
        if self.suite and (self.engine or self.jetson or self.home_size or self.read_only_root):
            raise ValueError(f"{self.name}: a foreign device has no engine, Jetson persona, small home or "
                             "shared read-only root")
        if self.read_only_root and self.engine:
            raise ValueError(f"{self.name}: an engine writes outside the device's own folders; no read-only root")


SSHD_CONFIG = """\
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
UsePAM no
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp internal-sftp
MaxSessions 32
MaxStartups 64:30:128
UseDNS no
LogLevel ERROR
"""

CONTAINERS_CONF = """\
[containers]
netns = "host"
# The engine's default rlimits exceed this machine's hard limits and make runc fail.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
"""

STORAGE_CONF = """\
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"

[storage.options]
additionalimagestores = ["{store}"]
"""


@functools.cache  # one hash serves every device: a fork of openssl each cost 10 ms of a rig's build
def _sha512_crypt(password: str) -> str:
    out = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _write_etc(spec: DeviceSpec, etc: Path, base: Path) -> None:
    """The login user (added to ``base``'s accounts), hostname, host key and sshd config in ``etc``."""
    (etc / "ssh").mkdir(parents=True, exist_ok=True)
    passwd = (base / "etc/passwd").read_text()
    group = (base / "etc/group").read_text()
    shadow = (base / "etc/shadow").read_text()
    group_lines = [line for line in group.splitlines() if not line.startswith("docker:")]
    docker_gid = 2990
    group_lines += [f"{LOGIN_USER}:x:{LOGIN_UID}:", f"docker:x:{docker_gid}:{LOGIN_USER}"]
    (etc / "passwd").write_text(
        passwd + f"{LOGIN_USER}:x:{LOGIN_UID}:{LOGIN_UID}:SDV rig user:/home/{LOGIN_USER}:/bin/bash\n"
    )
    (etc / "group").write_text("\n".join(group_lines) + "\n")
    (etc / "shadow").write_text(shadow + f"{LOGIN_USER}:{_sha512_crypt(LOGIN_PASSWORD)}:19000:0:99999:7:::\n")
    (etc / "shadow").chmod(0o640)
    (etc / "hostname").write_text(spec.name + "\n")

    key = etc / "ssh" / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (etc / "ssh" / "sshd_config").write_text(SSHD_CONFIG)


def _write_home(spec: DeviceSpec, homes: Path, public_key: str) -> None:
    home = homes / LOGIN_USER
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    (home / ".ssh" / "authorized_keys").write_text(public_key + "\n" if spec.authorized else "")
    for path in (home, home / ".ssh", home / ".ssh" / "authorized_keys"):
        path.chmod(0o700 if path.is_dir() else 0o600)
    subprocess.run(["chown", "-R", f"{LOGIN_UID}:{LOGIN_UID}", str(home)], check=True)


def prepare_device_root(spec: DeviceSpec, root: Path, public_key: str, store: Path) -> None:
    """Write the device's private folders and its /etc overlay upper layer."""
    etc = root / "etc"
    for sub in ("etc-work", "home", "tmp", "run", "containers", "crontabs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    if CRONTABS.is_dir():  # cron's spool, as the crontab program expects it: the device's own
        shutil.chown(root / "crontabs", group="crontab")
        (root / "crontabs").chmod(0o1730)
    _write_etc(spec, etc, Path("/"))
    _write_home(spec, root / "home", public_key)

    if spec.jetson:
        (etc / "nv_tegra_release").write_text(JETSON_RELEASE)
    if spec.engine:
        (etc / "containers").mkdir(exist_ok=True)
        (etc / "containers" / "containers.conf").write_text(CONTAINERS_CONF)
        (etc / "containers" / "storage.conf").write_text(STORAGE_CONF.format(store=store))


def prepare_foreign_root(spec: DeviceSpec, root: Path, public_key: str, lower: Path) -> None:
    """Write the upper layer of a foreign device's root overlay: the login user and sshd's setup,
    over the accounts the suite's root already has."""
    for sub in ("upper", "work", "merged"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    _write_etc(spec, root / "upper" / "etc", lower)
    _write_home(spec, root / "upper" / "home", public_key)


def boot_script(spec: DeviceSpec, root: Path) -> str:
    """The shell script run inside the device's namespaces; it ends by exec'ing sshd."""
    r = shlex.quote(str(root))
    lines = [
        "set -e",
        # The mount namespace is private (Rig._add_device): flags set on / here stay in this device, and
        # its own folder, bound onto itself first, is a mount of its own that stays writable.
        *([f"mount --bind {r} {r}", "mount -o remount,bind,ro /"] if spec.read_only_root else []),
        f"mount -t overlay overlay -o lowerdir=/etc,upperdir={r}/etc,workdir={r}/etc-work /etc",
        f"mount --bind {r}/home /home",
        f"mount --bind {r}/tmp /tmp",
        f"mount --bind {r}/run /run",
        f"hostname {shlex.quote(spec.name)}",
        "mkdir -p /run/sshd && chmod 755 /run/sshd",
    ]
    if CRONTABS.is_dir():
        lines.append(f"mount --bind {r}/crontabs {CRONTABS}")
    if spec.home_size:
        home = f"/home/{LOGIN_USER}"
        lines += [
            f"mkdir -p {r}/small-home",
            f"mount -t tmpfs -o size={shlex.quote(spec.home_size)},mode=700,uid={LOGIN_UID},gid={LOGIN_UID} "
            f"home {r}/small-home",
            f"cp -a {home}/. {r}/small-home/",
            f"mount --bind {r}/small-home {home}",
        ]
    if spec.engine:
        # `ip netns exec` mounted a fresh /sys without the cgroup v1 hierarchies podman needs.
        lines.append("mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup")
        for ctrl in CGROUP_V1:
            lines.append(f"mkdir -p /sys/fs/cgroup/{ctrl} && mount -t cgroup -o {ctrl} cgroup /sys/fs/cgroup/{ctrl}")
        lines += [
            "mkdir -p /sys/fs/cgroup/systemd && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd",
            f"mount --bind {r}/containers /var/lib/containers",
            f"podman system service --time=0 unix:///run/docker.sock >{r}/podman.log 2>&1 &",
            "i=0; while [ ! -S /run/docker.sock ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done",
            "chgrp docker /run/docker.sock && chmod 660 /run/docker.sock",
        ]
    lines.append(f"exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config 2>>{r}/sshd.log")
    return "\n".join(lines) + "\n"


def foreign_boot_script(spec: DeviceSpec, root: Path, lower: Path) -> str:
    """Mount the device's root (an overlay on ``lower``) with its own /dev, /proc, /sys, /tmp and
    /run, all in the device's private mount namespace, then exec sshd chrooted into it."""
    r, m = shlex.quote(str(root)), shlex.quote(str(root / "merged"))
    lines = [
        "set -e",
        f"mount -t overlay overlay -o lowerdir={shlex.quote(str(lower))},upperdir={r}/upper,workdir={r}/work {m}",
        f"mount -t tmpfs -o mode=755,nosuid dev {m}/dev",
        f"for n in {DEV_NODES}; do touch {m}/dev/$n && mount --bind /dev/$n {m}/dev/$n; done",
        f"mkdir {m}/dev/pts {m}/dev/shm && ln -s pts/ptmx {m}/dev/ptmx",
        # A devpts of its own: a pty opened in the device is not one of the host's.
        f"mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts {m}/dev/pts",
        f"mount -t tmpfs -o mode=1777 shm {m}/dev/shm",
        f"mount -t proc proc {m}/proc",
        f"mount -t sysfs sysfs {m}/sys",
        f"mount -t tmpfs -o mode=1777 tmp {m}/tmp",
        f"mount -t tmpfs -o mode=755 run {m}/run",
        f"mkdir -p {m}/run/sshd",
        f"hostname {shlex.quote(spec.name)}",
        f"exec chroot {m} /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config 2>>{r}/sshd.log",
    ]
    return "\n".join(lines) + "\n"
