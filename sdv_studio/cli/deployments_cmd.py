"""``sdv-studio deployments [ID]``: deployment history, or one deployment's detail."""

from __future__ import annotations

import argparse
import json

from sdv_studio.cli.device_options import add_json_option
from sdv_studio.cli.errors import EXIT_OK
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.errors import InvalidInput


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("deployments", help="deployment history and one deployment's detail")
    parser.add_argument("id", nargs="?", metavar="ID", help="a deploymentId (deploy_…)")
    add_json_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    records = DeploymentRecords()
    if args.id:
        try:
            deployment = records.load(args.id)
        except KeyError:
            raise InvalidInput(f"ID: no deployment {args.id}") from None
        if args.json:
            print(json.dumps(deployment.to_json_dict(), indent=2))
            return EXIT_OK
        print(f"{deployment.deployment_id}  {deployment.app_name} {deployment.app_version}  {deployment.status}")
        print(f"started {deployment.start_time:%Y-%m-%d %H:%M:%S}Z"
              + (f", ended {deployment.end_time:%H:%M:%S}Z" if deployment.end_time else ""))
        for row in deployment.devices:
            print(f"  {row.device_id:<16} {row.status:<9} {row.progress:3d}%  {row.message}")
            for line in row.logs[-10:]:
                print(f"  {'':<16} | {line}")
        return EXIT_OK
    history = records.all()
    if args.json:
        print(json.dumps({"deployments": [d.to_json_dict() for d in history]}, indent=2))
        return EXIT_OK
    if not history:
        print("no deployments yet")
    for d in history:
        ok = sum(1 for row in d.devices if row.status == "success")
        print(f"{d.deployment_id}  {d.start_time:%Y-%m-%d %H:%M}  {d.app_name} {d.app_version:<8} "
              f"{d.status:<11} {ok}/{len(d.devices)} devices")
    return EXIT_OK
