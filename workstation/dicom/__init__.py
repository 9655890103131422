"""DICOM reading, pixel decoding, UIDs (no Qt, no VTK)."""
