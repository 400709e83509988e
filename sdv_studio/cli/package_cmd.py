"""``sdv-studio package``: build a deployable package."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the packager loads only when the command runs
    from sdv_studio.core.packaging.stages import BuildProgress


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "package", help="build a deployable package",
        description="Package a .py file, a project folder (Velocitas layout) or a digital.auto "
                    "playground .json export into one reproducible, offline-installable .tar.gz.")
    parser.add_argument("source", metavar="SOURCE", type=Path)
    parser.add_argument("--name", help="package name (default: from the source)")
    parser.add_argument("--version", default="1.0.0", help="x.y.z (default 1.0.0)")
    parser.add_argument("--description")
    parser.add_argument("--runtime", choices=("native", "docker"), default="native")
    parser.add_argument("--python", dest="python_version", metavar="3.X[,3.Y…]",
                        help="device Pythons to carry wheels for, comma-separated, e.g. 3.11 or 3.9,3.11 "
                             "(default 3.8 to 3.13)")
    parser.add_argument("--memory", default="512MB", help="e.g. 512MB, 1G (default 512MB)")
    parser.add_argument("--cpu", default="0.5", help="cores, e.g. 0.5 or 500m (default 0.5)")
    parser.add_argument("--vss", help="VSS catalogue: a release (3.0, 3.1.1, 4.0, 5.1, 6.0) by number or release "
                        "URL, or a JSON file (default: the project's); .vspec files in the project are overlays")
    parser.add_argument("--platform", default="x86_64,aarch64", help="comma-separated (default x86_64,aarch64)")
    parser.add_argument("--base-image", help="Docker base image (default python:<python>-slim)")
    parser.add_argument("--output", type=Path, help="folder to write the package to (it is also stored)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sdv_studio.core.packaging import BuildOptions, build_package
    from sdv_studio.models.package import PYTHONS, python_list

    options = BuildOptions(
        name=args.name, version=args.version, description=args.description, runtime=args.runtime,
        python_versions=PYTHONS if args.python_version is None else python_list(args.python_version),
        memory=args.memory, cpu=args.cpu, vss=args.vss,
        platforms=[p.strip() for p in args.platform.split(",") if p.strip()],
        output_dir=args.output, base_image=args.base_image,
    )
    result = build_package(args.source, options, progress=_progress)
    summary = result.to_json_dict()
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['packageId']}  {summary['path']}  {summary['checksum']}  {summary['size']} bytes")
    return 0


def _progress(event: BuildProgress) -> None:
    print(event.message, file=sys.stderr, flush=True)
