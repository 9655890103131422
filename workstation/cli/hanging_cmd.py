"""Subcommands: protocols list/show/match/validate (hanging protocols)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this area's subcommands to the lightbox parser."""
