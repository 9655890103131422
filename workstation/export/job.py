"""One export as plain data and one function that runs it: what the command line and the dialog share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydicom

from workstation import audit
from workstation.export.deidentify import Deidentifier, NewPatient
from workstation.jobs.core import Cancelled, CancelToken, ProgressCallback

if TYPE_CHECKING:
    from workstation.store.cache import StudyCache

FORMATS = ("dicom", "png", "jpeg", "mp4")


@dataclass(frozen=True)
class ExportRequest:
    """What to export where.

    Attributes
    ----------
    files : tuple of pathlib.Path
        The studies' objects (see :func:`study_files`).
    to_folder : pathlib.Path or None
        An empty folder (DICOM media, or pictures and movies).
    to_iso : pathlib.Path or None
        An ISO image to write (DICOM only).
    deidentify : tuple of str or None
        None: a faithful copy; a tuple: the basic profile with these options.
    fmt : str
        One of :data:`FORMATS`.
    corner_text : bool
        Pictures and movies with the corner text (never the patient's when de-identifying).
    key_images_only : bool
        Pictures of the images the studies' key object selections list, not of every image.
    annotations : bool
        Pictures as the newest presentation state referencing each image shows it, its graphics and texts drawn.
    new_patient : (str, str) or None
        The de-identified copy's Patient's Name and Patient ID, chosen by the user (else generated from the
        key); the studies must then be of one patient.
    key : bytes or None
        Secret for consistent new UIDs and IDs across exports.
    """

    files: tuple[Path, ...]
    to_folder: Path | None = None
    to_iso: Path | None = None
    deidentify: tuple[str, ...] | None = None
    fmt: str = "dicom"
    corner_text: bool = True
    key: bytes | None = None
    key_images_only: bool = False
    annotations: bool = True
    new_patient: tuple[str, str] | None = None

    def check(self) -> None:
        """Raise ValueError with a plain sentence when the request cannot run."""
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown format {self.fmt!r}")
        if (self.to_folder is None) == (self.to_iso is None):
            raise ValueError("choose either a folder or an ISO image")
        if self.to_iso is not None and self.fmt != "dicom":
            raise ValueError("an ISO image holds DICOM media; choose a folder for pictures and movies")
        if not self.files:
            raise ValueError("no study chosen, or the chosen studies have no files in the cache")
        if self.new_patient is not None and self.deidentify is None:
            raise ValueError("a new patient name and ID are for de-identified copies")


def chosen_patients(request: ExportRequest) -> dict[str, NewPatient]:
    """Original Patient ID -> the chosen new patient; refused when the studies are of several patients."""
    if request.new_patient is None:
        return {}
    name, patient_id = request.new_patient
    if not name.strip() or not patient_id.strip():
        raise ValueError("give both the new patient name and the new patient ID (or neither: they are generated)")
    originals: set[str] = set()
    for path in request.files:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["PatientID"])
        except Exception:  # noqa: BLE001 - an unreadable file is the export's to report
            continue
        originals.add(str(ds.get("PatientID", "")))
    if len(originals) > 1:
        raise ValueError(f"the studies are of {len(originals)} patients: one chosen name and ID would merge them "
                         "(leave them empty to generate one per patient)")
    return {pid: NewPatient(name.strip(), patient_id.strip()) for pid in originals}


def study_files(cache: StudyCache, study_uids: list[str]) -> list[Path]:
    """Every cached file of the studies (images, reports, presentation states, key images).

    Raises
    ------
    KeyError
        A study that is not in the cache (the message names its UID).
    """
    files: list[Path] = []
    for uid in study_uids:
        if cache.study(uid) is None:
            raise KeyError(uid)
        for series in cache.series(uid):
            files += [cache.path_of(row) for row in cache.instances(series.series_uid)]
    return files


def run_export(request: ExportRequest, *, progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None, say: Callable[[str], None] = lambda s: None) -> list[str]:
    """Run ``request``; returns the report's lines (counts, what was left out and why, what was removed).

    Raises
    ------
    ValueError
        The request cannot run (:meth:`ExportRequest.check`), or the folder is not empty.
    """
    request.check()
    patients = chosen_patients(request) if request.deidentify is not None else {}  # refusals before the audit
    # The Export event is recorded once the export has ended, with its real outcome: written (0),
    # cancelled by the user (4) or failed (8); a refused request above wrote nothing and is not audited.
    destination = request.to_iso or request.to_folder
    anonymized = request.deidentify is not None
    try:
        lines = _run(request, patients, progress, cancel, say)
    except Cancelled:
        audit.export_requested(destination, request.files, anonymized, outcome="4", description="export cancelled")
        raise
    except BaseException as exc:
        audit.export_requested(destination, request.files, anonymized, outcome="8",
                               description=f"export failed ({type(exc).__name__})")
        raise
    audit.export_requested(destination, request.files, anonymized)
    return lines


def _run(request: ExportRequest, patients: dict[str, Any], progress: ProgressCallback | None,
         cancel: CancelToken | None, say: Callable[[str], None]) -> list[str]:
    deid = None
    if request.deidentify is not None:
        deid = Deidentifier(request.deidentify, key=request.key, patients=patients)
    if request.fmt == "dicom":
        from workstation.export.media import export_files, export_iso

        if request.to_iso is not None:
            report = export_iso(request.files, request.to_iso, deidentifier=deid, progress=progress, cancel=cancel)
        elif request.to_folder is not None:
            report = export_files(request.files, request.to_folder, deidentifier=deid, progress=progress,
                                  cancel=cancel)
        else:  # ExportRequest.check refuses this
            raise ValueError("choose either a folder or an ISO image")
        return report.summary_lines()
    return _pictures(request, progress, cancel, say)


@dataclass
class _Objects:
    images: list[Path]
    states: list[pydicom.Dataset]  # GSPS, newest first
    key_images: set[str]  # SOP Instance UIDs listed by key object selections (not rejection notes)


def _sort_objects(files: tuple[Path, ...]) -> tuple[_Objects, list[tuple[Path, str]]]:
    """The pictures' sources, GSPS and key-image UIDs; and the images as (path, SOP Instance UID)."""
    from workstation.imaging.key_images import read_key_object_selection
    from workstation.imaging.presentation_state import is_gsps
    from workstation.reporting.kinds import KEY_IMAGES, KOS_CLASS, kind_of

    images: list[tuple[Path, str]] = []
    states: list[pydicom.Dataset] = []
    keys: set[str] = set()
    for path in files:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - not a DICOM file: nothing to draw
            continue
        if is_gsps(ds):
            states.append(pydicom.dcmread(path))
        elif str(ds.get("SOPClassUID", "")) == KOS_CLASS:
            if kind_of(KOS_CLASS, ds) == KEY_IMAGES:
                keys.update(read_key_object_selection(ds).sop_instance_uids())
        elif "Rows" in ds:
            images.append((path, str(ds.get("SOPInstanceUID", ""))))
    states.sort(key=lambda g: (str(g.get("PresentationCreationDate", "")), str(g.get("PresentationCreationTime", ""))),
                reverse=True)
    return _Objects([p for p, _uid in images], states, keys), images


def _state_for(states: list[pydicom.Dataset], sop_uid: str) -> pydicom.Dataset | None:
    from workstation.imaging.presentation_state import read_gsps

    for ds in states:
        try:
            if read_gsps(ds).references_image(sop_uid):
                return ds
        except (ValueError, TypeError, AttributeError):
            continue
    return None


def _pictures(request: ExportRequest, progress: ProgressCallback | None, cancel: CancelToken | None,
              say: Callable[[str], None]) -> list[str]:
    from workstation.export.images import export_image, export_movie
    from workstation.imaging.frames import number_of_frames

    if request.to_folder is None:  # ExportRequest.check refuses this: pictures and movies go to a folder
        raise ValueError("choose a folder for pictures and movies")
    out = request.to_folder
    objects, images = _sort_objects(request.files)
    if request.key_images_only:
        images = [(p, uid) for p, uid in images if uid in objects.key_images]
        if not images:
            raise ValueError("the chosen studies have no key images")
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    total = len(images)
    deidentify = request.deidentify is not None
    for n, (path, uid) in enumerate(images, 1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if progress is not None:
            progress(n - 1, total)
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        name = f"{n:04d}"  # never a patient value in a file name
        if request.fmt == "mp4":
            if number_of_frames(ds) < 2:
                continue
            fps = export_movie(path, out / f"{name}.mp4", corner_text=request.corner_text, deidentify=deidentify)
            say(f"{name}.mp4 at {fps:g} frames/s")
        else:
            state = _state_for(objects.states, uid) if request.annotations else None
            export_image(path, out / f"{name}.{'jpg' if request.fmt == 'jpeg' else 'png'}",
                         corner_text=request.corner_text, deidentify=deidentify, fmt=request.fmt,
                         presentation_state=state, annotations=request.annotations)
        written += 1
    if progress is not None:
        progress(total, total)
    return [f"{written} {request.fmt} file(s) written to {out}"]
