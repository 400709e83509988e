"""What a package's ``security`` settings make true on a device (docs/security.md): the databroker
token scoped to the app's signals (``signals``, ``tokens``), the sandbox each runtime applies
(``sandbox``), and the per-device account of what was enforced (``report``)."""
