"""The reader's work on a study (measurements, annotations, key-image marks), saved with the study.

One JSON file per study under the home: ``<home>/measurements/<StudyInstanceUID>.json``,
written whole each time (a temporary file renamed over the old one, so a crash
leaves either the old or the new file, never half of one).  The file holds:

``measurements``
    The report's view of the work: :class:`~workstation.reporting.inputs.Measurement`
    dictionaries, what ``lightbox report create --with-measurements`` reads.
``annotations``
    What the viewer needs to draw them again: kind, points in image pixel
    coordinates, the frame (SOP Instance UID, 0-based frame), the reader's text and
    the values as they were shown.
``key_images``
    The frames marked as key images: [SOP Instance UID, 0-based frame].

Older files are a bare list of measurement dictionaries (written by hand or by
scripts for the report command); :func:`read_report_measurements` still reads them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterable

from workstation.imaging.annotation_layer import Annotation, Kind
from workstation.reporting.inputs import Measurement
from workstation.reporting.viewer_input import measurements_from_annotation

log = logging.getLogger(__name__)

FORMAT = "lightbox-study-work"
VERSION = 1
DIRECTORY_NAME = "measurements"

FrameKey = tuple[str, int]
#: What :func:`snapshot` returns: the annotations (kind, points, frame, text), then the key-image marks.
Snapshot = tuple[tuple[tuple[Any, ...], ...], tuple[FrameKey, ...]]
#: SOP Instance UID -> (SOP Class UID, number of frames), as the report inputs want it.
ImageLookup = Callable[[str], "tuple[str, int] | None"]

_UID = re.compile(r"^[0-9.]{1,64}$")


class WorkFileError(ValueError):
    """A study's work file cannot be read (damaged, or written by a newer version)."""


@dataclass
class StudyWork:
    """What the reader made on one study."""

    study_uid: str
    annotations: list[Annotation] = field(default_factory=list)
    key_images: set[FrameKey] = field(default_factory=set)
    #: Annotation.id -> the annotation's lasting identity in the file (so two writers can merge)
    uids: dict[int, str] = field(default_factory=dict)

    def snapshot(self) -> Snapshot:
        """A comparable summary: equal snapshots need no saving."""
        return snapshot(self.annotations, self.key_images)

    def __bool__(self) -> bool:
        return bool(self.annotations or self.key_images)


def snapshot(annotations: Iterable[Annotation], key_images: Iterable[FrameKey]) -> Snapshot:
    """What decides whether work changed: each annotation's kind, points, frame and text, and the marks."""
    items = sorted((a.kind.value, tuple((round(x, 4), round(y, 4)) for x, y in a.points),
                    (a.frame_key[0], int(a.frame_key[1])), a.text) for a in annotations)
    return tuple(items), tuple(sorted((k[0], int(k[1])) for k in key_images))


def work_file(directory: Path, study_uid: str) -> Path:
    """Where a study's work is kept.

    Raises
    ------
    ValueError
        ``study_uid`` is not a UID (it would name a file elsewhere).
    """
    if not _UID.match(study_uid or ""):
        raise ValueError("not a Study Instance UID")
    return Path(directory) / f"{study_uid}.json"


# Annotations as plain data ------------------------------------------------------------------
def new_annotation_uid() -> str:
    return uuid.uuid4().hex


def annotation_as_dict(a: Annotation, uid: str = "") -> dict[str, Any]:
    return {"uid": uid or new_annotation_uid(), "kind": a.kind.value,
            "points": [[float(x), float(y)] for x, y in a.points],
            "frame": [a.frame_key[0], int(a.frame_key[1])], "text": a.text, "lines": list(a.lines),
            "values": {k: v for k, v in a.values.items() if isinstance(v, (int, float, str))}}


def annotation_from_dict(d: dict[str, Any]) -> Annotation:
    """An annotation as saved (raises KeyError, ValueError or TypeError on a damaged entry)."""
    frame = d["frame"]
    points = [(float(p[0]), float(p[1])) for p in d["points"]]
    if not points:
        raise ValueError("an annotation without points")
    return Annotation(Kind(d["kind"]), points, (str(frame[0]), int(frame[1])), text=str(d.get("text", "")),
                      lines=[str(line) for line in d.get("lines", [])], values=dict(d.get("values", {})))


def report_measurements(annotations: Iterable[Annotation], lookup: ImageLookup) -> list[Measurement]:
    """The report measurements the annotations hold (lengths in mm only; HU for CT values).

    The units come from the values as the viewer showed them: a length shown in
    pixels (no calibration) is no report measurement.
    """
    out: list[Measurement] = []
    for a in annotations:
        shown = " ".join(a.lines)
        try:
            out += measurements_from_annotation(a, lookup, length_unit="mm" if " mm" in shown else "px",
                                                value_unit="HU" if " HU" in shown else "")
        except (ValueError, KeyError):  # one odd value must not keep the others out of the report
            log.warning("an annotation could not be turned into a report measurement")
    return out


# Files ------------------------------------------------------------------------------------
def write_work(path: Path, work: StudyWork, lookup: ImageLookup) -> None:
    """Write a study's work (atomically).  Raises OSError when the home cannot be written."""
    annotations = [a for a in work.annotations if a.points]
    data = {
        "format": FORMAT,
        "version": VERSION,
        "study_uid": work.study_uid,
        "saved": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "measurements": [m.as_dict() for m in report_measurements(annotations, lookup)],
        "annotations": [annotation_as_dict(a, work.uids.get(a.id, "")) for a in annotations],
        "key_images": [[k[0], int(k[1])] for k in sorted(work.key_images)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise WorkFileError(f"{path.name} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise WorkFileError(f"{path.name} is not valid JSON (line {exc.lineno})") from exc


def read_work(path: Path, study_uid: str) -> StudyWork | None:
    """A study's saved work; None when nothing was saved.

    Entries that cannot be read are left out (and logged); a file that is not
    this format at all raises :class:`WorkFileError`.  A bare list (measurements
    only, the report command's older input) restores no annotations.
    """
    try:
        data = _load(path)
    except FileNotFoundError:
        return None
    if isinstance(data, list):
        return StudyWork(study_uid)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise WorkFileError(f"{path.name} is not a Lightbox measurements file")
    if int(data.get("version", 0)) > VERSION:
        raise WorkFileError(f"{path.name} was written by a newer Lightbox (version {data.get('version')})")
    work = StudyWork(study_uid)
    bad = 0
    for entry in data.get("annotations", []):
        try:
            a = annotation_from_dict(entry)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError):
            bad += 1
            continue
        work.annotations.append(a)
        work.uids[a.id] = str(entry.get("uid") or new_annotation_uid())
    for entry in data.get("key_images", []):
        try:
            work.key_images.add((str(entry[0]), int(entry[1])))
        except (KeyError, ValueError, TypeError, IndexError):
            bad += 1
    if bad:
        log.warning("measurements file: %d damaged entries left out", bad)
    return work


def read_report_measurements(path: Path) -> list[Measurement]:
    """The measurements a report takes from a study's work file (either format).

    Raises
    ------
    FileNotFoundError
        Nothing was saved for the study.
    WorkFileError, ValueError, KeyError, TypeError
        The file cannot be read.
    """
    data = _load(Path(path))
    if isinstance(data, dict):
        if data.get("format") != FORMAT:
            raise WorkFileError(f"{Path(path).name} is not a Lightbox measurements file")
        data = data.get("measurements", [])
    if not isinstance(data, list):
        raise WorkFileError(f"{Path(path).name}: the measurements are not a list")
    return [Measurement.from_dict(m) for m in data]


def set_aside(path: Path) -> Path | None:
    """Rename a file that cannot be read so a save does not overwrite it (nothing is lost)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.unreadable-{stamp}{path.suffix}")
    try:
        os.replace(path, target)
        return target
    except OSError:
        log.warning("could not set an unreadable measurements file aside")
        return None
