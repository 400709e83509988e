"""The one shape of an expected failure in core: a list of problems, one line each, each naming
the field or the file:line it is about. The faces print the lines (CLI) or send them (API)."""

from __future__ import annotations


class Problems(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
