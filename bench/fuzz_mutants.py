"""Seeded mutants of the public DICOM test files, for :mod:`bench.fuzz`.

Mutant *i* of campaign seed *s* comes from one public file (pydicom's,
pydicom-data's), changed by a generator seeded with (s, i): hostile Image
Pixel values, unreadable numbers, transfer syntaxes, deleted or damaged UIDs,
sequence bombs, private elements, then sometimes bytes truncated, flipped or
overwritten with length-like values.  Every mutant carries a planted patient
name and ID.
"""

from __future__ import annotations

import random
from pathlib import Path

__all__ = ["PLANTED_NAME", "PLANTED_ID", "MARKERS", "seed_files", "make_mutant"]

#: Planted in every mutant; no log line may contain them.
PLANTED_NAME = "Zyxplant^Quortle"
PLANTED_ID = "PLNTQX7731"
MARKERS = ("Zyxplant", "Quortle", PLANTED_ID)

_IMAGE_ATTRIBUTES = {
    "Rows": [0, 1, 3, 65535, 4097, 2],
    "Columns": [0, 1, 3, 65535, 4097, 2],
    "BitsAllocated": [0, 1, 8, 12, 16, 32, 64, 255],
    "BitsStored": [0, 1, 7, 8, 12, 16, 17, 32, 64],
    "HighBit": [0, 7, 15, 31, 63, 200],
    "SamplesPerPixel": [0, 1, 2, 3, 4, 65535],
    "PixelRepresentation": [0, 1, 2],
    "PlanarConfiguration": [0, 1, 2],
    "PhotometricInterpretation": ["MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422",
                                  "PALETTE COLOR", "YBR_ICT", "YBR_RCT", "ARGB", "", "XYZ"],
    "NumberOfFrames": ["0", "-1", "inf", "1e999", "nan", "65535", "2", "3", "1000000"],
}
_NUMBER_TEXT = ["inf", "1e999", "-inf", "nan", "NaN", "1e308", "-0", "99999999999999999999", "1.5.6", ""]
_TEXT_NUMBER_KEYWORDS = ["InstanceNumber", "SeriesNumber", "SliceThickness", "WindowCenter", "WindowWidth",
                         "RescaleSlope", "RescaleIntercept", "SliceLocation", "EchoTime"]
_TRANSFER_SYNTAXES = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
                      "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
                      "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
                      "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
                      "1.2.840.10008.1.2.5", "1.2.3.4"]


# -- seeds and mutants --------------------------------------------------------------------------


def seed_files() -> list[str]:
    """Public test files that pydicom reads (pydicom's own, pydicom-data's), sorted."""
    import pydicom.data
    from pydicom import dcmread

    roots = [Path(pydicom.data.__file__).parent / "test_files"]
    try:
        import data_store  # pydicom-data

        roots.append(Path(data_store.__file__).parent / "data")
    except ImportError:
        pass
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.stat().st_size > 8 << 20 or path.suffix in (".py", ".txt", ".json", ".gz",
                                                                                        ".bz2", ".zip", ".xz"):
                continue
            try:
                dcmread(path, stop_before_pixels=True)
            except Exception:  # noqa: BLE001 - not a seed
                continue
            found.append(str(path))
    return found


def _dataset_mutation(ds, rng: random.Random) -> str:
    """Change the data set in one hostile way; returns what was done."""
    kind = rng.choice(["image", "image", "image", "number", "ts", "delete", "uid", "sequence", "private"])
    if kind == "image":
        keyword = rng.choice(sorted(_IMAGE_ATTRIBUTES))
        value = rng.choice(_IMAGE_ATTRIBUTES[keyword])
        if keyword != "NumberOfFrames" and rng.random() < 0.2 and isinstance(value, int):
            value = rng.randint(0, 70000)
        setattr(ds, keyword, value)
        return f"{keyword}={value}"
    if kind == "number":
        keyword = rng.choice(_TEXT_NUMBER_KEYWORDS)
        value = rng.choice(_NUMBER_TEXT)
        from pydicom.dataelem import DataElement
        from pydicom.datadict import tag_for_keyword, dictionary_VR

        tag = tag_for_keyword(keyword)
        ds[tag] = DataElement(tag, dictionary_VR(tag), value.encode("ascii"))
        return f"{keyword}={value}"
    if kind == "ts":
        uid = rng.choice(_TRANSFER_SYNTAXES)
        if getattr(ds, "file_meta", None) is not None:
            ds.file_meta.TransferSyntaxUID = uid
        return f"TransferSyntaxUID={uid}"
    if kind == "delete":
        keyword = rng.choice(["Rows", "Columns", "BitsAllocated", "SamplesPerPixel", "PhotometricInterpretation",
                              "PixelData", "StudyInstanceUID", "SOPClassUID", "BitsStored"])
        if keyword in ds:
            del ds[keyword]
        return f"delete {keyword}"
    if kind == "uid":
        keyword = rng.choice(["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"])
        from pydicom.dataelem import DataElement
        from pydicom.datadict import tag_for_keyword

        tag = tag_for_keyword(keyword)
        value = rng.choice([PLANTED_NAME, "1.2.3." + "9" * 70, "", "1..2", PLANTED_ID])
        ds[tag] = DataElement(tag, "UI", value.encode("latin-1"))
        return f"{keyword} damaged"
    if kind == "sequence":
        from pydicom.dataset import Dataset
        from pydicom.sequence import Sequence

        ds.ReferencedImageSequence = Sequence([Dataset() for _ in range(rng.choice([10, 1000, 5000]))])
        return "many empty sequence items"
    ds.add_new(0x00091010, "LO", PLANTED_NAME)
    ds.add_new(0x00091011, "UN", (PLANTED_ID * 3).encode())
    return "private elements"


def _byte_mutation(data: bytearray, rng: random.Random) -> str:
    kind = rng.choice(["truncate", "flip", "length", "zero"])
    if not data:
        return "empty"
    if kind == "truncate":
        cut = rng.randint(132, max(133, len(data) - 1))
        del data[cut:]
        return f"truncated at {cut}"
    if kind == "flip":
        count = rng.randint(1, 16)
        for _ in range(count):
            pos = rng.randrange(min(len(data), 132), len(data)) if len(data) > 132 else rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
        return f"{count} bits flipped"
    if kind == "length":
        pos = rng.randrange(0, max(1, len(data) - 4))
        data[pos:pos + 4] = rng.choice([b"\xff\xff\xff\xff", b"\xfe\xff\xff\x7f", b"\x00\x00\x00\x80"])
        return f"length-like bytes at {pos}"
    start = rng.randrange(0, len(data))
    end = min(len(data), start + rng.randint(1, 4096))
    data[start:end] = bytes(end - start)
    return f"zeroed {start}-{end}"


def make_mutant(seeds: list[str], campaign_seed: int, index: int, folder: Path) -> tuple[Path, str, str]:
    """Write mutant ``index`` of the campaign; returns (path, seed file name, what was changed)."""
    from pydicom import dcmread
    from pydicom.uid import generate_uid

    rng = random.Random(f"{campaign_seed}:{index}")
    seed = rng.choice(seeds)
    path = folder / f"mutant-{index:06d}.dcm"
    changes = []
    try:
        ds = dcmread(seed, force=True)
        ds.PatientName = PLANTED_NAME
        ds.PatientID = PLANTED_ID
        # New UIDs: every mutant is its own study, so each one is really stored, not a duplicate.
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
        ds.SOPInstanceUID = generate_uid()
        if getattr(ds, "file_meta", None) is not None and "MediaStorageSOPInstanceUID" in ds.file_meta:
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        for _ in range(rng.choice([1, 1, 2, 3])):
            changes.append(_dataset_mutation(ds, rng))
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(path, enforce_file_format=False)
        data = bytearray(path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - fall back to bytes only
        data = bytearray(Path(seed).read_bytes())
        changes.append(f"bytes only ({type(exc).__name__})")
    if rng.random() < 0.35:
        changes.append(_byte_mutation(data, rng))
    path.write_bytes(bytes(data))
    return path, Path(seed).name, "; ".join(changes)
