"""DICOM networking (no Qt, no VTK)."""
