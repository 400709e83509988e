"""--waves and --max-failed of the exports, read into the Rollout both carry (problems gathered, so
every one is told at once)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sdv_studio.core.errors import InvalidInput

if TYPE_CHECKING:  # the CLI imports the exports only when one runs
    from sdv_studio.core.export.ansible import Rollout


def rollout_of(args: argparse.Namespace, problems: list[str]) -> Rollout:
    """The rollout ``--waves``/``--max-failed`` ask for; what is wrong with them goes to ``problems``."""
    from sdv_studio.core.deploy.waves import MaxFailed, Reach, parse_max_failed, parse_waves
    from sdv_studio.core.export.ansible import Rollout

    waves: list[Reach] = []
    max_failed = MaxFailed(count=0)
    try:
        waves = parse_waves(args.waves) if args.waves else []
    except InvalidInput as exc:
        problems += exc.problems
    try:
        max_failed = parse_max_failed(args.max_failed)
    except InvalidInput as exc:
        problems += exc.problems
    return Rollout(waves, max_failed, args.waves or "100%")
