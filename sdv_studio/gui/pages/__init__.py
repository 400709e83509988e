"""The wizard's pages, one module each, in the order of its steps (docs/architecture.md)."""
