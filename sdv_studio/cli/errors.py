"""Exit codes and the one exception type the command handlers raise for expected failures."""

from __future__ import annotations

from collections.abc import Iterable

EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and failed
EXIT_INVALID = 2  # invalid input: one line per problem on stderr


class CliError(Exception):
    """An expected failure: printed as plain lines, never as a traceback."""

    def __init__(self, lines: str | Iterable[str], exit_code: int = EXIT_FAILED) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        self.exit_code = exit_code
        super().__init__("; ".join(self.lines))


def invalid(lines: str | Iterable[str]) -> CliError:
    return CliError(lines, EXIT_INVALID)
