"""Subcommands: volume, mpr, render3d (MPR and 3D)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this area's subcommands to the lightbox parser."""
