"""Reusable widgets: the code editor, cards, fields that show their own errors."""
