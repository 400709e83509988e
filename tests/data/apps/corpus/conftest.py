"""The corpus holds apps as users bring them, their own tests included: never collect those here."""

collect_ignore_glob = ["*"]
