"""Test data, not tests: the sample projects carry their own test suites (a Velocitas app's
app/tests/…), which import what only the app's environment has."""

collect_ignore_glob = ["apps/*"]
