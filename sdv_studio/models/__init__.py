"""pydantic models of the guide's interfaces (camelCase JSON), one module per domain."""
