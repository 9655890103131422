"""The public DICOM test files Lightbox's tests use, and what is known about them.

Two sets are installed as Python packages: pydicom's own test files
(``pydicom/data/test_files``) and pydicom-data's larger ones (module
``data_store``, files in ``data_store/data``).  Any test may import this
module::

    from tests.dicom.testdata import data_file, files_with_pixel_data

Nothing here uses Lightbox's own reading code, so tests can check that code
against it.
"""

from __future__ import annotations

import functools
import importlib.util
import struct
import warnings
from pathlib import Path

import pydicom
import pytest

#: Files in the test folders that are not DICOM data sets.
_NOT_DICOM_SUFFIXES = {".txt", ".json", ".dump", ".icc", ".gz"}

_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)


def pydicom_test_dir() -> Path:
    """pydicom's ``data/test_files`` folder."""
    return Path(pydicom.__file__).parent / "data" / "test_files"


def pydicom_data_dir() -> Path | None:
    """pydicom-data's ``data_store/data`` folder, or None when it is not installed."""
    spec = importlib.util.find_spec("data_store")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def installed_sets() -> list[tuple[str, Path]]:
    """``(set name, folder)`` for each installed test set."""
    dirs = [("pydicom", pydicom_test_dir())]
    extra = pydicom_data_dir()
    if extra is not None:
        dirs.append(("pydicom-data", extra))
    return dirs


def data_file(name: str) -> Path:
    """The test file called ``name`` (a base name), skipping the test when it is absent.

    pydicom's set is searched first, then pydicom-data's; nothing is downloaded.
    """
    for _label, folder in installed_sets():
        for candidate in (folder / name, *folder.rglob(name)):
            if candidate.is_file():
                return candidate
    pytest.skip(f"test file {name} is not installed")


def label(path: Path) -> str:
    """A short name for reports: ``pydicom:MR_small.dcm``, ``pydicom-data:emri_small.dcm``."""
    for set_name, folder in installed_sets():
        try:
            return f"{set_name}:{path.relative_to(folder).as_posix()}"
        except ValueError:
            continue
    return str(path)


@functools.lru_cache(maxsize=1)
def all_files() -> tuple[Path, ...]:
    """Every file of both sets that may be a DICOM data set, sorted."""
    found: list[Path] = []
    for _label, folder in installed_sets():
        for path in folder.rglob("*"):
            if (
                path.is_file()
                and path.suffix.lower() not in _NOT_DICOM_SUFFIXES
                and not path.name.upper().startswith("README")
            ):
                found.append(path)
    return tuple(sorted(found))


def has_pixel_data(path: Path) -> bool:
    """True when the data set in ``path`` has (Float / Double Float) Pixel Data.

    A whole-file read can fail on a malformed file after the pixel data
    element, so a read that stops before the pixel data is tried as well.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, force=True)
            if any(tag in ds for tag in _PIXEL_TAGS):
                return True
        except Exception:
            pass
        try:
            with open(path, "rb") as f:
                ds = pydicom.dcmread(f, stop_before_pixels=True, force=True)
                if ds.file_meta.get("TransferSyntaxUID") == pydicom.uid.DeflatedExplicitVRLittleEndian:
                    return False
                tag = f.read(4)
        except Exception:
            return False
    if len(tag) < 4:
        return False
    little, big = struct.unpack("<HH", tag), struct.unpack(">HH", tag)
    return any(group << 16 | elem in _PIXEL_TAGS for group, elem in (little, big))


@functools.lru_cache(maxsize=1)
def files_with_pixel_data() -> tuple[Path, ...]:
    """The files of both sets whose data set has pixel data (about 160 with pydicom-data)."""
    return tuple(path for path in all_files() if has_pixel_data(path))


def read(path: Path) -> pydicom.Dataset:
    """The whole data set in ``path`` (warnings about malformed files silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, force=True)


def read_header(path: Path) -> pydicom.Dataset:
    """The data set in ``path`` up to its pixel data: what a damaged tail cannot spoil."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, force=True, stop_before_pixels=True)


# -- what is known about the files -------------------------------------------------------

#: Native references and files holding exactly the same stored values in
#: another transfer syntax (lossless compression, other byte order or VR).
SAME_VALUES: dict[str, tuple[str, ...]] = {
    "MR_small.dcm": (
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_expb.dcm",
        "MR_small_padded.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
    ),
    "emri_small.dcm": (
        "emri_small_big_endian.dcm",
        "emri_small_RLE.dcm",
        "emri_small_jpeg_2k_lossless.dcm",
        "emri_small_jpeg_2k_lossless_too_short.dcm",
        "emri_small_jpeg_ls_lossless.dcm",
    ),
    "SC_rgb.dcm": (
        "SC_rgb_expb.dcm",
        "SC_rgb_rle.dcm",
        "SC_rgb_jpeg_gdcm.dcm",  # JPEG Lossless SV1
        "SC_rgb_gdcm_KY.dcm",  # JPEG 2000 coded reversibly
        "SC_rgb_gdcm2k_uncompressed.dcm",
    ),
    "SC_rgb_2frame.dcm": ("SC_rgb_expb_2frame.dcm", "SC_rgb_rle_2frame.dcm"),
    "SC_rgb_16bit.dcm": ("SC_rgb_expb_16bit.dcm", "SC_rgb_rle_16bit.dcm"),
    "SC_rgb_16bit_2frame.dcm": ("SC_rgb_expb_16bit_2frame.dcm", "SC_rgb_rle_16bit_2frame.dcm"),
    "SC_rgb_32bit.dcm": ("SC_rgb_expb_32bit.dcm", "SC_rgb_rle_32bit.dcm"),
    "SC_rgb_32bit_2frame.dcm": ("SC_rgb_expb_32bit_2frame.dcm", "SC_rgb_rle_32bit_2frame.dcm"),
    "rtdose.dcm": ("rtdose_expb.dcm", "rtdose_rle.dcm"),
    "rtdose_1frame.dcm": ("rtdose_expb_1frame.dcm", "rtdose_rle_1frame.dcm"),
    "OBXXXX1A.dcm": ("OBXXXX1A_expb.dcm", "OBXXXX1A_rle.dcm"),
    "OBXXXX1A_2frame.dcm": ("OBXXXX1A_expb_2frame.dcm", "OBXXXX1A_rle_2frame.dcm"),
    "liver.dcm": ("liver_expb.dcm",),
    "liver_1frame.dcm": ("liver_expb_1frame.dcm",),
    "color-px.dcm": ("color-pl.dcm",),  # the same colours, planar configuration 0 and 1
    "US1_UNCR.dcm": ("US1_J2KR.dcm", "examples_jpeg2k.dcm"),  # YBR_RCT decodes to RGB
    "693_UNCR.dcm": ("693_J2KR.dcm",),
    "MR2_UNCR.dcm": ("MR2_J2KR.dcm",),
    "RG1_UNCR.dcm": ("RG1_J2KR.dcm",),
    "RG3_UNCR.dcm": ("RG3_J2KR.dcm",),
    # The *_UNCI files are the lossy JPEG 2000 images decompressed: equal to the decode.
    "US1_UNCI.dcm": ("US1_J2KI.dcm",),
    "693_UNCI.dcm": ("693_J2KI.dcm",),
    "MR2_UNCI.dcm": ("MR2_J2KI.dcm",),
    "RG1_UNCI.dcm": ("RG1_J2KI.dcm",),
    "RG3_UNCI.dcm": ("RG3_J2KI.dcm",),
    "JPEG2000_UNC.dcm": ("JPEG2000.dcm",),
    # RGB JPEG baseline and DCMTK's decompression of it (libjpeg-turbo decodes the same).
    "SC_rgb_jpeg_dcmd.dcm": ("SC_rgb_jpeg.dcm",),
    "SC_rgb_dcmtk_ebcr_dcmd.dcm": ("SC_rgb_dcmtk_+eb+cr.dcm",),
}

#: YBR JPEG baseline files and DCMTK's RGB decompression of them: the decoded
#: YBR converted to RGB is within the given difference (0 for libjpeg-turbo).
YBR_JPEG_AND_DCMTK_RGB: dict[str, str] = {
    "SC_rgb_dcmtk_+eb+cy+n1.dcm": "SC_rgb_dcmtk_ebcyn1_dcmd.dcm",
    "SC_rgb_dcmtk_+eb+cy+n2.dcm": "SC_rgb_dcmtk_ebcyn2_dcmd.dcm",
    "SC_rgb_dcmtk_+eb+cy+np.dcm": "SC_rgb_dcmtk_ebcynp_dcmd.dcm",
    "SC_rgb_dcmtk_+eb+cy+s2.dcm": "SC_rgb_dcmtk_ebcys2_dcmd.dcm",
    "SC_rgb_dcmtk_+eb+cy+s4.dcm": "SC_rgb_dcmtk_ebcys4_dcmd.dcm",
}

#: Lossy files and a native image of the same scene: (lossy, reference, max |difference|).
CLOSE_VALUES: tuple[tuple[str, str, int], ...] = (
    ("SC_rgb_jls_lossy_line.dcm", "SC_rgb.dcm", 2),  # JPEG-LS NEAR=2
    ("SC_rgb_jls_lossy_sample.dcm", "SC_rgb.dcm", 2),
    ("JPEG-lossy.dcm", "JPGExtended.dcm", 1),  # the same 12-bit image, two codecs
)

#: Files that fail on purpose, and the start of the error Lightbox gives.
EXPECTED_ERRORS: dict[str, str] = {
    "MR_truncated.dcm": "pixel data truncated: expected 8192 bytes, found 8130",
    "badVR.dcm": "invalid Number of Frames '1A'",
    "meta_missing_tsyntax.dcm": "invalid Image Pixel module: missing required element: (0028,0100)",
    "nested_priv_SQ.dcm": "invalid Image Pixel module: missing required element: (0028,0100)",
    # The codestream stops after 250 bytes: a reading test for an embedded delimiter.
    "JPEG2000-embedded-sequence-delimiter.dcm": "cannot decode JPEG 2000 pixel data: ",
}
