"""``python -m sdv_studio.broker``: the broker alone, as it runs on a device from its own venv."""

from __future__ import annotations

import argparse
import sys

from sdv_studio.broker import bench, options, runner, vss


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m sdv_studio.broker", description=__doc__)
    options.add_arguments(parser)
    parsed, problems = options.options_from_args(parser.parse_args())
    if parsed is None:
        print("\n".join(problems), file=sys.stderr)
        return 2
    try:
        runner.run(parsed)
    except bench.SignalsError as exc:
        print("\n".join(f"--signals: {problem}" for problem in exc.problems), file=sys.stderr)
        return 2
    except (vss.VssError, OSError, RuntimeError) as exc:
        print(f"broker: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
