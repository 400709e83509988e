"""The PySide6 desktop wizard; the only place Qt is imported."""
