"""The one vocabulary of expected failures: what was asked is invalid, or the work failed.

Every expected failure in core is a ``Problems``: a list of lines, each naming the field, the option
or the file:line it is about, and ``str()`` of it is those lines joined. The faces translate the kind
once each: the CLI exits 2 for invalid input and 1 for a failure, printing the lines; the API answers
404/422 for invalid input and 502/503 for a failure, sending them; the GUI shows them. Anything else
that escapes is a bug, and is reported as one (with its traceback, where the face keeps a log).

The specific exceptions (``SshError``, ``DeployError``, ``PackageError``…) derive from these kinds and
stay where callers catch them by name.
"""

from __future__ import annotations

from collections.abc import Iterable


class Problems(Exception):
    """An expected failure; ``problems`` holds one line per problem."""

    summary = "the operation failed"  # the API's ``detail``: a few words over the lines

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class InvalidInput(Problems):
    """What was asked cannot be done as given; correcting the input is the way on (CLI 2, API 422)."""

    summary = "invalid request"


class NotFound(InvalidInput):
    """The input names something that does not exist (API 404)."""

    summary = "not found"


class OperationFailed(Problems):
    """The input was valid, the work was tried and failed: a device, the network or a tool said no
    (CLI 1, API 502)."""


class Unavailable(OperationFailed):
    """Something this program needs to serve the request cannot be used right now, such as its own
    damaged or unreadable files (API 503)."""

    summary = "unavailable"
