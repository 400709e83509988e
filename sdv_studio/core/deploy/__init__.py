"""Deploying a package to many devices at once: stages, events, records and runtimes."""
