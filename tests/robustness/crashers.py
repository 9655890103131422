"""The files that once ended the process, made by code from pydicom's public test files.

Each changes one attribute of a public file (no binaries are committed).
"""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmread
from pydicom.data import get_testdata_file

#: name -> (public file, attributes to set, what used to happen)
CRASHERS: dict[str, tuple[str, dict, str]] = {
    "jpeg-bits-allocated-1": ("SC_rgb_jpeg_gdcm.dcm", {"BitsAllocated": 1, "BitsStored": 1}, "GDCM SIGABRT"),
    "jpegls-columns-65535": ("JPEGLSNearLossless_08.dcm", {"Rows": 3, "Columns": 65535}, "GDCM SIGABRT"),
    "jpegls-rows-65535": ("JPEGLSNearLossless_08.dcm", {"Rows": 65535}, "GDCM SIGABRT"),
    "j2k-samples-per-pixel-1": ("SC_rgb_gdcm_KY.dcm", {"SamplesPerPixel": 1}, "GDCM SIGABRT"),
    "rle-65535-squared": ("MR_small_RLE.dcm", {"Rows": 65535, "Columns": 65535}, "16 GiB allocation"),
    "native-65535-squared": ("CT_small.dcm", {"Rows": 65535, "Columns": 65535}, "8 GiB allocation"),
    "jpeg-frames-1e6": ("SC_rgb_jpeg_gdcm.dcm", {"NumberOfFrames": "1000000"}, "huge allocation"),
}


def write_crasher(name: str, folder: Path) -> Path:
    """Write crasher ``name`` into ``folder``; returns its path."""
    source, changes, _what = CRASHERS[name]
    ds = dcmread(get_testdata_file(source))
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    ds.PatientName, ds.PatientID = "Zyxplant^Quortle", "PLNTQX7731"
    path = folder / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=False)
    return path
