"""pydantic models of the JSON interface (docs/interface.md, camelCase), one module per domain."""
