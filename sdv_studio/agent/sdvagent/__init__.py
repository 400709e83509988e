"""SDV Studio device agent (stdlib only, Python >= 3.8).

Every agent call is a short-lived process on a device that may be small, so its modules import
only what they use when they use it. Type hints stay (``from __future__ import annotations`` keeps
them unevaluated), but ``typing`` itself is imported only under ``TYPE_CHECKING`` (a plain False
here, which type checkers read as True): importing it costs ~2.5 ms of CPU in every call.
"""

AGENT_VERSION = "1"
