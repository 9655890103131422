"""Subcommands: report create/show/list/verify, outbox, cert (structured reporting)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this area's subcommands to the lightbox parser."""
