"""Copies of studies as DICOM files: a folder, a USB stick or an ISO image, with DICOMDIR (IHE PDI).

The media follow the IHE Portable Data for Imaging profile in one of the
DICOM general-purpose application profiles (PS3.11): a DICOMDIR made by
pydicom's :class:`~pydicom.fileset.FileSet` at the root, a ``README.TXT``, and
an ``IHE_PDI`` folder with an HTML index of what is on the media.  Every
object is written through :func:`workstation.dicom.charset.encode_dataset`,
so a name its character set cannot hold switches the object to UTF-8 instead
of becoming ``?``.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict
from pathlib import Path

import pydicom
from workstation.export.fileset import ExportFileSet
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from workstation.dicom.charset import CharsetError, encode_dataset
from workstation.export.deidentify import Deidentifier, NotDeidentifiable
from workstation.jobs.core import CancelToken, ProgressCallback, ProgressThrottle

#: Transfer syntaxes allowed on the media of each general-purpose profile (PS3.11 Annexes D, F, J, L).
PROFILES: dict[str, frozenset[str]] = {
    "STD-GEN-CD": frozenset({ExplicitVRLittleEndian}),
    "STD-GEN-DVD-JPEG": frozenset({ExplicitVRLittleEndian, "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
                                   "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}),
    "STD-GEN-USB-JPEG": frozenset({ExplicitVRLittleEndian, "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
                                   "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}),
}

_README = """\
This {kind} holds medical images in the DICOM format (IHE Portable Data for Imaging).

Studies: {studies}   Objects: {objects}
Application profile: {profile}
{deid}
Open it with any DICOM viewer: the index of every file is DICOMDIR, at the top of the {kind}.
IHE_PDI/INDEX.HTM lists the studies. Made by Lightbox.
"""


class _StudyEntry(TypedDict):
    """One study's row of IHE_PDI/INDEX.HTM."""

    name: str
    date: str
    description: str
    modalities: set[str]
    count: int


@dataclass
class ExportReport:
    """What an export wrote, what it left out and why, and what de-identification removed."""

    written: int = 0
    studies: set[str] = field(default_factory=set)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason) - never a patient value
    removed: Counter[tuple[str, str]] = field(default_factory=Counter)  # (action, attribute) -> count
    converted: int = 0
    files: list[Path] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        """Plain lines for the command line and the dialog: counts, then what was removed by attribute."""
        lines = [f"{self.written} objects of {len(self.studies)} studies written"
                 + (f", {self.converted} converted to Explicit VR Little Endian" if self.converted else "")]
        reasons = Counter(reason for _name, reason in self.skipped)
        for reason, n in reasons.most_common():
            lines.append(f"left out {n} object{'s' if n > 1 else ''}: {reason}")
        if self.removed:
            names = {"X": "removed", "Z": "emptied", "D": "replaced by a dummy", "U": "new UID",
                     "C": "cleaned/shifted"}
            by_action: dict[str, list[str]] = {}
            for (action, keyword), _n in sorted(self.removed.items()):
                by_action.setdefault(action, []).append(keyword)
            for action in ("X", "Z", "D", "U", "C"):
                if action in by_action:
                    lines.append(f"{names[action]}: {', '.join(sorted(set(by_action[action])))}")
        return lines


def media_ready(ds: pydicom.Dataset, allowed: frozenset[str]) -> tuple[pydicom.Dataset, bool]:
    """``ds`` in a transfer syntax ``allowed`` on the media, and whether it was converted.

    A big endian object comes back as a new data set (pydicom writes a data set
    read as big endian only as big endian); the others are changed in place.
    """
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", ExplicitVRLittleEndian)) if meta is not None else ExplicitVRLittleEndian
    if ts in allowed:
        return ds, False
    if ts == "1.2.840.10008.1.2.2":
        # Every element converted to values first, then the pixel bytes swapped through the decoded array.
        arr = ds.pixel_array if "PixelData" in ds else None
        fresh = pydicom.Dataset({elem.tag: elem for elem in ds})
        fresh.file_meta = ds.file_meta
        if arr is not None:
            fresh.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
            fresh["PixelData"].VR = "OB" if int(ds.BitsAllocated) <= 8 else "OW"
        ds = fresh
    elif "PixelData" in ds and ts != "1.2.840.10008.1.2":
        ds.decompress()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds, True


def _fix_document_record(record: pydicom.Dataset, ds: pydicom.Dataset) -> None:
    """Make pydicom's SR DOCUMENT / KEY OBJECT DOC record what PS3.3 F.5.24/F.5.32 say.

    pydicom copies the document's whole Content Sequence into the record, where
    only the items that modify the document title (HAS CONCEPT MOD) belong, and
    looks for Verification DateTime at the top level, where it never is (it sits in
    the Verifying Observer Sequence); dciodvfy reports both on the DICOMDIR.
    """
    if str(record.get("DirectoryRecordType", "")) not in ("SR DOCUMENT", "KEY OBJECT DOC"):
        return
    if "ContentSequence" in record:
        modifiers = [item for item in record.ContentSequence if item.get("RelationshipType") == "HAS CONCEPT MOD"]
        if modifiers:
            record.ContentSequence = modifiers
        else:
            del record.ContentSequence
    if record.get("VerificationFlag") == "VERIFIED" and "VerificationDateTime" not in record:
        observers = ds.get("VerifyingObserverSequence") or []
        when = [str(o.get("VerificationDateTime", "")) for o in observers if o.get("VerificationDateTime")]
        if when:
            record.VerificationDateTime = max(when)


def _dicomdir_keys(ds: pydicom.Dataset) -> None:
    """Give emptied Type 1 keys of the DICOMDIR's STUDY record a dummy (Z allows one, PS3.15 E.1.1)."""
    for keyword, dummy in (("StudyDate", "19000101"), ("StudyTime", "000000"), ("StudyID", "1")):
        if not str(ds.get(keyword, "") or "").strip():
            setattr(ds, keyword, dummy)


def export_files(
    sources: Iterable[Path],
    dest: Path,
    *,
    deidentifier: Deidentifier | None = None,
    profile: str = "STD-GEN-USB-JPEG",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    kind: str = "folder",
) -> ExportReport:
    """Write ``sources`` (DICOM files) as IHE PDI media into the empty folder ``dest``.

    Parameters
    ----------
    sources : iterable of pathlib.Path
        The objects to copy: images, reports, presentation states, key object selections.
    dest : pathlib.Path
        An empty (or missing) folder: gets DICOMDIR, the DICOM folder, README.TXT and IHE_PDI.
    deidentifier : Deidentifier, optional
        Applied to every object before it is written (one for the whole export keeps UIDs consistent).
    profile : str
        A key of :data:`PROFILES`; objects in another transfer syntax are converted.
    progress, cancel
        ``progress(done, total)`` throttled; ``cancel`` stops between objects.

    Raises
    ------
    ValueError
        ``dest`` holds files already, or ``profile`` is unknown.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown application profile {profile!r} (one of {', '.join(PROFILES)})")
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ValueError(f"{dest} is not empty: choose an empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    sources = list(sources)
    report = ExportReport()
    throttle = ProgressThrottle(progress, len(sources) + 1)
    fileset = ExportFileSet()
    fileset.ID = "LIGHTBOX"
    index: dict[tuple[str, str], _StudyEntry] = {}
    for path in sources:
        if cancel is not None:
            cancel.raise_if_cancelled()
        name = Path(path).name
        try:
            ds: Dataset = pydicom.dcmread(path)
            if deidentifier is not None:
                report.removed.update(deidentifier.deidentify(ds).actions)
            _dicomdir_keys(ds)
            ds, converted = media_ready(ds, PROFILES[profile])
            report.converted += converted
            data = encode_dataset(ds)
            instance = fileset.add(ds)
            _fix_document_record(instance.node._record, ds)  # pydicom 3.0 keeps the leaf record there only
            Path(instance.path).write_bytes(data)  # pydicom staged its own encoding; ours is the exact one
        except NotDeidentifiable as exc:
            report.skipped.append((name, str(exc)))
        except CharsetError as exc:
            report.skipped.append((name, str(exc)))
        except Exception as exc:  # noqa: BLE001 - one unreadable or undecodable object does not end the export
            report.skipped.append((name, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"))
        else:
            report.written += 1
            report.studies.add(str(ds.StudyInstanceUID))
            entry = index.setdefault((str(ds.get("PatientID", "")), str(ds.StudyInstanceUID)), {
                "name": str(ds.get("PatientName", "")), "date": str(ds.get("StudyDate", "") or ""),
                "description": str(ds.get("StudyDescription", "") or ""), "modalities": set(), "count": 0})
            entry["modalities"].add(str(ds.get("Modality", "")))
            entry["count"] += 1
        throttle.advance()
    fileset.write(dest)
    _check_dicomdir_names(dest / "DICOMDIR", {pid: e["name"] for (pid, _s), e in index.items()})
    report.files = [dest / "DICOMDIR"] + [dest / i.FileID for i in fileset]
    deid = ("De-identified copy (PS3.15 Annex E): " + (deidentifier.options and ", ".join(sorted(deidentifier.options))
            or "basic profile")) if deidentifier is not None else ""
    (dest / "README.TXT").write_text(_README.format(kind=kind, studies=len(report.studies), objects=report.written,
                                                    profile=profile, deid=deid), encoding="utf-8")
    _write_pdi_index(dest, index)
    report.files += [dest / "README.TXT", dest / "IHE_PDI" / "INDEX.HTM"]
    throttle.advance()
    throttle.finish()
    return report


def _check_dicomdir_names(path: Path, names: dict[str, str]) -> None:
    """Read the DICOMDIR pydicom wrote back: every PATIENT record names its patient exactly (no '?').

    Raises
    ------
    CharsetError
        A record's name differs from the objects' (the message names the record, not the name).
    """
    dicomdir = pydicom.dcmread(path)
    for n, record in enumerate(dicomdir.get("DirectoryRecordSequence", [])):
        if record.get("DirectoryRecordType") != "PATIENT":
            continue
        wanted = names.get(str(record.get("PatientID", "")))
        if wanted is not None and str(record.get("PatientName", "")) != wanted:
            raise CharsetError(f"DICOMDIR record {n}: the patient's name was not written exactly")


def _write_pdi_index(dest: Path, index: dict[tuple[str, str], _StudyEntry]) -> None:
    """IHE_PDI/INDEX.HTM: one row per study (patient, date, modalities, objects), escaped HTML in UTF-8."""
    rows = []
    for (_pid, _study), e in sorted(index.items(), key=lambda kv: (kv[1]["name"], kv[1]["date"])):
        cells = [e["name"].replace("^", " ").strip(), e["date"], e["description"], "/".join(sorted(e["modalities"])),
                 str(e["count"])]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    (dest / "IHE_PDI").mkdir(exist_ok=True)
    (dest / "IHE_PDI" / "INDEX.HTM").write_text(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Studies on this media</title></head><body>"
        "<h1>Studies on this media</h1><table><tr><th>Patient</th><th>Date</th><th>Description</th>"
        "<th>Modalities</th><th>Objects</th></tr>" + "".join(rows) + "</table>"
        "<p>Open DICOMDIR at the top of the media with a DICOM viewer.</p></body></html>\n",
        encoding="utf-8")


def write_iso(folder: Path, iso_path: Path, volume_id: str = "LIGHTBOX") -> None:
    """An ISO 9660 image of ``folder`` (level 1 names as DICOM media need, plus Joliet and Rock Ridge).

    DICOMDIR and the DICOM folder already have ISO 9660 level 1 names (pydicom's file IDs);
    README.TXT and IHE_PDI/INDEX.HTM too.
    """
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, joliet=3, rock_ridge="1.09", vol_ident=volume_id[:32].upper())
    folder = Path(folder)
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        rel = Path(root).relative_to(folder)
        if rel != Path("."):
            iso_dir = "/" + rel.as_posix().upper()
            iso.add_directory(iso_dir, rr_name=rel.name, joliet_path="/" + rel.as_posix())
        for name in sorted(files):
            rel_file = (rel / name).as_posix() if rel != Path(".") else name
            stem, dot, ext = name.upper().partition(".")
            iso_name = f"{stem}.{ext};1" if dot else f"{stem}.;1"
            parent = "" if rel == Path(".") else "/" + rel.as_posix().upper()
            iso.add_file(str(Path(root) / name), f"{parent}/{iso_name}", rr_name=name,
                         joliet_path="/" + rel_file)
    tmp = Path(iso_path).with_suffix(Path(iso_path).suffix + ".partial")
    iso.write(str(tmp))
    iso.close()
    os.replace(tmp, iso_path)


def export_iso(sources: Iterable[Path], iso_path: Path, **kwargs: Any) -> ExportReport:
    """:func:`export_files` into a staging folder, then :func:`write_iso` (profile STD-GEN-CD by default)."""
    kwargs.setdefault("profile", "STD-GEN-CD")
    with tempfile.TemporaryDirectory(prefix="lightbox-iso-") as tmp:
        report = export_files(sources, Path(tmp) / "media", kind="disc", **kwargs)
        write_iso(Path(tmp) / "media", Path(iso_path))
    report.files = [Path(iso_path)]
    return report


def extract_iso(iso_path: Path, dest: Path) -> Path:
    """Copy the files of an ISO image made by :func:`write_iso` into ``dest`` (Rock Ridge names); returns ``dest``."""
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.open(str(iso_path))
    try:
        for root, _dirs, files in iso.walk(rr_path="/"):
            for name in files:
                rr = f"{root.rstrip('/')}/{name}"
                out = Path(dest) / rr.lstrip("/")
                out.parent.mkdir(parents=True, exist_ok=True)
                iso.get_file_from_iso(str(out), rr_path=rr)
    finally:
        iso.close()
    return Path(dest)


Progress = Callable[[int, int], None]
