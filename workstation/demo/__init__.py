"""Synthetic demo studies and the embedded demo archive (no Qt, no VTK)."""
