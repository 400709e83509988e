"""``sdv-studio export ansible PACKAGE --device D... --output DIR``: the deployment as an Ansible
inventory and playbook, for fleets beyond one workstation; ``export kubernetes`` (export_kubernetes_cmd.py):
a Docker-runtime package as Kubernetes manifests."""

from __future__ import annotations

import argparse
import json
import sys

from sdv_studio.cli.broker_credential_options import add_broker_credential_options, broker_credentials
from sdv_studio.cli.device_options import add_device_options, resolve_or_exit
from sdv_studio.cli.export_kubernetes_cmd import add_parser as add_kubernetes_parser
from sdv_studio.cli.export_kubernetes_cmd import run_kubernetes
from sdv_studio.core.errors import InvalidInput, OperationFailed
from sdv_studio.paths import user_path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="hand a deployment to another tool (Ansible, Kubernetes)")
    tools = parser.add_subparsers(dest="tool", metavar="TOOL")
    ansible = tools.add_parser(
        "ansible", help="an Ansible inventory and playbook that perform the same deployment",
        description="Write an Ansible inventory (the devices, with the host keys SDV Studio trusts) and a playbook "
        "that deploys PACKAGE through SDV Studio's device agent, as `sdv-studio deploy` does. Run it with "
        "`ansible-playbook -i DIR/inventory.yml DIR/deploy.yml` (ansible-core alone will do).",
    )
    ansible.add_argument("package", metavar="PACKAGE", help="a package file or a packageId from the local store")
    add_device_options(ansible)
    ansible.add_argument("--output", "-o", required=True, metavar="DIR",
                         help="the folder to write (new, empty, or an earlier export, which is replaced)")
    ansible.add_argument("--waves", metavar="1,25%%,100%%",
                         help="cumulative counts or percentages of the devices: the playbook's serial batches "
                              "(default: every device at once)")
    ansible.add_argument("--max-failed", default="0", metavar="N|P%%",
                         help="failed devices a batch may have before the rollout stops: the playbook's "
                              "max_fail_percentage (default 0)")
    ansible.add_argument("--broker", metavar="HOST:PORT",
                         help="wire the app to this databroker (default: one listening on the device's port 55555, "
                              "else SDV Studio's, started there)")
    add_broker_credential_options(ansible)
    ansible.add_argument("--hot-swap", action=argparse.BooleanOptionalAction, default=None,
                         help="start the new version beside the old one and switch when it is healthy "
                              "(default: as the package's deployment.hotSwap says)")
    ansible.add_argument("--no-rollback", action="store_true",
                         help="if the new version fails, leave nothing running instead of restarting the old one")
    ansible.add_argument("--force", action="store_true",
                         help="replace the installed version even where its package said deployment.otaEnabled: "
                              "false (which pins it)")
    ansible.add_argument("--grace", type=float, default=3.0, metavar="S",
                         help="seconds a new version must stay up before it counts as healthy (default 3)")
    add_kubernetes_parser(tools)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sdv_studio.cli.export_rollout import rollout_of
    from sdv_studio.core.deploy.options import DeployOptions
    from sdv_studio.core.deploy.package_file import open_package
    from sdv_studio.core.export.ansible import export_ansible
    from sdv_studio.core.packaging.wheels import WheelError

    if args.tool is None:
        raise InvalidInput("export: say which tool: ansible or kubernetes (sdv-studio export --help)")
    if args.tool == "kubernetes":
        return run_kubernetes(args)
    problems: list[str] = []  # every one at once: the package's, the devices', the options'
    try:
        package = open_package(args.package)
    except InvalidInput as exc:
        problems += exc.problems
    try:
        devices = resolve_or_exit(args)
    except InvalidInput as exc:
        problems += exc.problems
    rollout = rollout_of(args, problems)
    if args.grace < 0:
        problems.append("--grace: must not be negative")
    token, ca = broker_credentials(args, problems)
    if problems:
        raise InvalidInput(problems)
    options = DeployOptions(hot_swap=args.hot_swap, rollback=not args.no_rollback, broker=args.broker,
                            grace_seconds=args.grace, connect_timeout=args.timeout, force=args.force,
                            broker_token=token, broker_ca=ca)
    try:
        done = export_ansible(package, devices, user_path(args.output), options,
                              rollout, accept_new=args.accept_new_host_keys)
    except WheelError as exc:
        raise OperationFailed(["cannot prepare SDV Studio's databroker for the devices: " + "; ".join(exc.problems),
                               "give --broker HOST:PORT to wire the app to a databroker the devices have"]) from exc
    if done.note:
        print(done.note, file=sys.stderr)
    for device in done.accepting_new:
        print(f"{device}: no host key trusted yet; ssh will trust the one it is shown first", file=sys.stderr)
    for line in done.not_enforced:
        print(f"NOT enforced: {line}", file=sys.stderr)
    expires = f"{done.token_expires:%Y-%m-%dT%H:%M:%SZ}" if done.token_expires else None
    if expires:
        print(f"{done.credentials}: the app's databroker token (a secret; expires {expires}): encrypt it with "
              "`ansible-vault encrypt` and run the playbook with --ask-vault-pass", file=sys.stderr)
    if args.json:
        print(json.dumps({"output": str(done.output), "inventory": str(done.inventory), "playbook": str(done.playbook),
                          "devices": done.devices, "serial": done.serial,
                          "maxFailPercentage": done.max_fail_percentage, "credentials": str(done.credentials),
                          "tokenExpires": expires}, indent=2))
    else:
        print(f"wrote {done.output}: {len(done.devices)} device(s) in batches of {done.serial}, "
              f"max_fail_percentage {done.max_fail_percentage:g}", file=sys.stderr)
        print(f"ansible-playbook -i {done.inventory} {done.playbook}")
    return 0
