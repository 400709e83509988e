"""What the GUI shows for a failure: an expected one's own lines; for anything else (a bug) a short
line naming the log file, where its traceback was written."""

from __future__ import annotations

from sdv_studio import paths
from sdv_studio.core.errors import OperationFailed, Problems


def expected(exc: BaseException) -> bool:
    """Core's vocabulary, and what the system refused (a file, a connection, a timeout)."""
    return isinstance(exc, Problems | OSError)


def readable(exc: BaseException) -> str:
    if isinstance(exc, Problems):
        return "\n".join(exc.problems)
    if expected(exc):
        return str(exc) or type(exc).__name__
    return f"Unexpected error ({type(exc).__name__}: {exc}); the details are in {paths.log_file()}"


class Unexpected(OperationFailed):
    """A bug's exception as a page is handed it, once its traceback is logged; the cause is kept."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(readable(exc))
        self.__cause__ = exc
