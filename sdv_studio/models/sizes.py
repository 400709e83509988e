"""Sizes as the guide writes them (``2.5MB``, ``7.6GB``), for every face and the device capabilities."""

from __future__ import annotations


def human_size(size: int) -> str:
    """``2.5MB``, ``812KB``, ``32GB``: binary units, at most one decimal, no space."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + unit
    return f"{size}B"
