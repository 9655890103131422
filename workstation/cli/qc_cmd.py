"""Subcommands: qc check/correct/reject/split/merge, tags (technologist QC)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this area's subcommands to the lightbox parser."""
