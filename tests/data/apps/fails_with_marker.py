"""A light app that stays up, unless its device carries a marker file: then it exits at once,
failing its health gate there alone."""
import os
import sys
import time

MARKER = os.path.expanduser("~/sdv-test-fail-marker")


def main() -> None:
    if os.path.exists(MARKER):
        sys.exit(f"{MARKER} exists: failing on purpose")
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
