"""Calibrated grayscale display: DICOM PS3.14 GSDF, monitor characteristics, TG18 test patterns.

Plain Python (no Qt): the viewer asks this package for the table that turns
presentation values (P-values, the display pipeline's output) into the digital
driving levels (DDLs) a given monitor needs so that equal steps of P-value are
equal steps of perceived brightness (just-noticeable differences).
"""
