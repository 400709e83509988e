"""An export's hosts: SDV Studio's devices as an Ansible inventory, and the host keys SDV Studio
trusts for them as a known_hosts file beside it, which ssh is held to (StrictHostKeyChecking=yes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sdv_studio.core.deploy.agent_link.local_target import is_local
from sdv_studio.core.deploy.service import DeviceRef
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.export.yaml_text import dump
from sdv_studio.core.ssh.known_hosts import KnownHosts

GROUP = "sdv_devices"
KNOWN_HOSTS = "known_hosts"

# Only the exported known_hosts counts: not ~/.ssh's, not the system's. A device SDV Studio has no
# key for yet gets "accept-new" (with --accept-new-host-keys): ssh then adds its key to that file.
_SSH_ARGS = (f'-o UserKnownHostsFile="{{{{ inventory_dir }}}}/{KNOWN_HOSTS}" -o GlobalKnownHostsFile=/dev/null '
             "-o StrictHostKeyChecking={{ sdv_host_key_checking }}")


class HostsInvalid(InvalidInput):
    """Devices that cannot be exported; one line per device."""


@dataclass(frozen=True)
class Hosts:
    inventory: str  # inventory.yml
    known_hosts: str
    accepting_new: list[str]  # the devices whose key ssh will trust on first use


def export_hosts(devices: Sequence[DeviceRef], known: KnownHosts, *, accept_new: bool) -> Hosts:
    """The inventory (one host per device, under its SDV Studio id, in the order given) and known_hosts.
    A device without a trusted key is refused unless ``accept_new``; this computer (``local``) is refused."""
    problems: list[str] = []
    hosts: dict[str, dict[str, Any]] = {}
    key_lines: list[str] = []
    accepting_new: list[str] = []
    for ref in devices:
        target = ref.target
        if is_local(target):
            problems.append(f"--device {ref.device_id}: this computer is not reached over SSH; "
                            "Ansible deploys to devices only")
            continue
        name = target.known_hosts_name
        keys = known.lookup(name)
        key_lines += [f"{name} {key.get_name()} {key.get_base64()}" for key in keys.values()]
        host: dict[str, Any] = {"ansible_host": target.host, "ansible_port": target.port, "ansible_user": target.user}
        if target.key_file is not None:
            host["ansible_ssh_private_key_file"] = str(target.key_file)
        if not keys:
            if not accept_new:
                problems.append(f"--device {ref.device_id}: SDV Studio trusts no host key for {name} yet: connect "
                                "to it once (e.g. `sdv-studio status --device ...`) or give --accept-new-host-keys")
            host["sdv_host_key_checking"] = "accept-new"
            accepting_new.append(ref.device_id)
        hosts[ref.device_id] = host
    if problems:
        raise HostsInvalid(problems)
    group_vars = {"ansible_ssh_common_args": _SSH_ARGS, "sdv_host_key_checking": "yes",
                  "ansible_python_interpreter": "auto_silent", "ansible_pipelining": True}
    inventory = {"all": {"children": {GROUP: {"hosts": hosts, "vars": group_vars}}}}
    header = "# SDV Studio's devices, written by `sdv-studio export ansible`; their host keys: known_hosts beside it.\n"
    return Hosts(header + dump(inventory), "".join(f"{line}\n" for line in key_lines), accepting_new)
