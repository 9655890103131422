"""Subcommands: query, retrieve, send, listen (connectivity)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this area's subcommands to the lightbox parser."""
