"""Lightbox: a diagnostic reading workstation for DICOM studies."""

__version__ = "0.1.0"
