"""The local study cache: SQLite index plus files (no Qt, no VTK)."""
