"""SDV Studio device agent (stdlib only, Python >= 3.8)."""

AGENT_VERSION = "1"
