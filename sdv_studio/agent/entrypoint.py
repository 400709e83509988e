"""Entry point on the device: ``python3 entrypoint.py <command> [json | -]``.

Works from wherever the folder was copied: it puts its own folder first on sys.path and runs
the ``sdvagent`` package beside it. Importing this module has no effect.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    from sdvagent.cli import main as run

    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
