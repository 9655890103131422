"""Subcommands: config show/set and nodes add/list/remove/echo/test (connectivity)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this area's subcommands to the lightbox parser."""
