"""Local QC checks of a cached study: patient, rejected instances, stacks, geometry, required attributes.

Every check looks at the instances that are not rejected (what a reader
sees).  Each returns :class:`CheckItem` records with a status:

* ``pass`` nothing to do;
* ``warn`` worth a look (mixed patients, duplicate positions, uneven spacing,
  missing Type 2 attributes, inconsistent Frame of Reference, no pixel spacing);
* ``fail`` must be fixed before reading (slice gaps, missing Type 1 attributes,
  instances missing against the archive);
* ``info`` not checked (say why).
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from workstation.model.slices import slices_from_rows
from workstation.model.stacks import split_stacks
from workstation.qc.instances import QcError, read, require_study
from workstation.qc.iod import iod_name, missing_attributes
from workstation.qc.notes import rejected_sop_uids, rejection_note_uids
from workstation.store.cache import StudyCache
from workstation.store.merges import ShownPatient, shown_patient
from workstation.store.queries import InstanceRow, SeriesRow

PASS, WARN, FAIL, INFO = "pass", "warn", "fail", "info"
_RANK = {INFO: 0, PASS: 1, WARN: 2, FAIL: 3}

#: Modalities whose images are slices of a volume (stack checks apply).
CROSS_SECTIONAL = frozenset({"CT", "MR", "PT", "NM"})
#: Modalities without images: no geometry to check.
NON_IMAGE = frozenset({"KO", "SR", "PR", "DOC", "REG", "SEG", "RTSTRUCT", "RTPLAN", "RTDOSE", "RTRECORD"})


@dataclass
class CheckItem:
    """One line of the QC checklist.

    Attributes
    ----------
    key : str
        Stable identifier ("patient", "series:<uid>", "attributes", "completeness" ...).
    title : str
    status : {"pass", "warn", "fail", "info"}
    message : str
        One sentence.
    details : list of str
        What exactly (shown when the item is expanded).
    series_uid : str
        The series the item is about, if one.
    """

    key: str
    title: str
    status: str
    message: str
    details: list[str] = field(default_factory=list)
    series_uid: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "status": self.status, "message": self.message,
                "details": list(self.details), "series_uid": self.series_uid}


def worst(statuses: Iterable[str]) -> str:
    """The most serious of some statuses (``info`` when there are none)."""
    return max(statuses, key=_RANK.__getitem__, default=INFO)


@dataclass
class StudyView:
    """A study as QC sees it: series, their visible instances and headers (read once for all checks)."""

    study_uid: str
    series: list[SeriesRow]
    rows: dict[str, list[InstanceRow]]  # series UID -> instances not rejected
    headers: dict[str, Dataset]  # SOP Instance UID -> header
    rejected: set[str]
    notes: set[str]
    shown: ShownPatient | None = None  # the surviving patient when the RIS merged the study


def load_study(cache: StudyCache, study_uid: str) -> StudyView:
    """Read what the checks need: every visible instance's header, without pixel data."""
    require_study(cache, study_uid)
    rejected = rejected_sop_uids(cache, study_uid)
    notes = rejection_note_uids(cache, study_uid)
    series = cache.series(study_uid)
    rows: dict[str, list[InstanceRow]] = {}
    headers: dict[str, Dataset] = {}
    for s in series:
        live = [r for r in cache.instances(s.series_uid) if r.sop_instance_uid not in rejected | notes]
        if live:
            rows[s.series_uid] = live
        for r in live:
            with contextlib.suppress(QcError):  # reported by the attribute check as unreadable
                headers[r.sop_instance_uid] = read(cache, r, pixels=False)
    return StudyView(study_uid, [s for s in series if s.series_uid in rows], rows, headers, rejected, notes,
                     shown_patient(cache, study_uid))


def _series_label(s: SeriesRow) -> str:
    number = "" if s.series_number is None else f" {s.series_number}"
    return f"Series{number} {s.description} [{s.modality}]".replace("  ", " ")


def check_patient(view: StudyView) -> CheckItem:
    """One patient and one order in the whole study.

    Of a study the RIS merged, the images still carrying the merged-away
    identity and the objects made since (naming the survivor) are one patient.
    """
    patients = Counter(_patient_of(ds, view.shown) for ds in view.headers.values()
                       if str(ds.get("Modality", "")) != "KO")
    accessions = Counter(str(ds.get("AccessionNumber", "")) for ds in view.headers.values())
    details = [f"{n} instance(s): ID {p[0] or '(none)'}{' (' + p[1] + ')' if p[1] else ''}, {p[2] or '(no name)'}, "
               f"born {p[3] or '?'}, sex {p[4] or '?'}" for p, n in patients.most_common()]
    if len(patients) > 1:
        ids = {p[:2] for p in patients}
        what = "more than one patient" if len(ids) > 1 else "one Patient ID with different demographics"
        return CheckItem("patient", "Patient", WARN, f"The study holds {what}: correct it before reading", details)
    if len(accessions) > 1:
        return CheckItem("patient", "Patient", WARN, "Instances carry different Accession Numbers",
                         details + [f"{n} instance(s): accession {a or '(none)'}" for a, n in accessions.most_common()])
    return CheckItem("patient", "Patient", PASS, "One patient, one accession number", details)


def _patient_of(ds: Dataset, shown: ShownPatient | None) -> tuple[str, str, str, str, str]:
    """(ID, issuer, name, birth date, sex) of an instance, the survivor's for a merged-away identity."""
    birth, sex = str(ds.get("PatientBirthDate", "")), str(ds.get("PatientSex", ""))
    if shown is not None and shown.carried_by(str(ds.get("PatientID", "")), str(ds.get("PatientName", ""))):
        # As objects made from the study are written (patient_module.apply_shown_patient).
        return shown.patient_id, shown.issuer, shown.name, shown.birth_date or birth, shown.sex or sex
    return (str(ds.get("PatientID", "")), str(ds.get("IssuerOfPatientID", "")), str(ds.get("PatientName", "")),
            birth, sex)


def check_rejected(view: StudyView) -> CheckItem:
    if not view.rejected:
        return CheckItem("rejected", "Rejected instances", PASS, "No instance is rejected")
    return CheckItem("rejected", "Rejected instances", PASS,
                     f"{len(view.rejected)} instance(s) rejected by {len(view.notes)} rejection note(s); "
                     "hidden when reading")


def check_series(cache: StudyCache, view: StudyView, series: SeriesRow) -> CheckItem:
    """Stacks (gaps, duplicates, spacing), Frame of Reference and pixel spacing of one series."""
    rows = view.rows[series.series_uid]
    headers = [view.headers[r.sop_instance_uid] for r in rows if r.sop_instance_uid in view.headers]
    key, title = f"series:{series.series_uid}", _series_label(series)
    if series.modality in NON_IMAGE or not any(r.rows for r in rows):
        return CheckItem(key, title, INFO, "No images: no geometry to check", series_uid=series.series_uid)
    fails: list[str] = []
    warns: list[str] = []
    notes: list[str] = []
    frames = {str(ds.get("FrameOfReferenceUID", "")) for ds in headers}
    if len(frames) > 1:
        warns.append(f"{len(frames)} different Frames of Reference in one series")
    if series.modality in CROSS_SECTIONAL:
        slices, skipped = slices_from_rows(rows, [cache.path_of(r) for r in rows])
        split = split_stacks(slices)
        for s in split.skipped + skipped:
            warns.append(s)
        volumes = [st for st in split.stacks if not st.localizer]
        if len(volumes) > 1:
            warns.append(f"{len(volumes)} stacks in one series (split it by orientation or position?)")
        for i, stack in enumerate(split.stacks, start=1):
            name = f"stack {i} ({stack.orientation_name}{', localizer' if stack.localizer else ''})"
            fails.extend(f"{name}: {g.message()}" for g in stack.gaps)
            warns.extend(f"{name}: {d.message()}" for d in stack.duplicates)
            for n in stack.notes:
                worrying = "spacing varies" in n or "Pixel Spacing" in n or "cut by a large gap" in n
                (warns if worrying else notes).append(f"{name}: {n}")
        if any(r.rows and not r.pixel_spacing for r in rows) and not any("Pixel Spacing" in w for w in warns):
            warns.append("no Pixel Spacing: distances cannot be measured")
    else:
        uncalibrated = [ds for ds in headers if not _has_spacing(ds)]
        if uncalibrated:
            warns.append(f"{len(uncalibrated)} image(s) without Pixel Spacing or Imager Pixel Spacing: "
                         "distances cannot be measured")
    details = fails + warns + notes
    status = FAIL if fails else WARN if warns else PASS
    problems = fails + warns
    message = problems[0] if problems else f"{len(rows)} instance(s): geometry consistent"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return CheckItem(key, title, status, message, details, series.series_uid)


def _has_spacing(ds: Dataset) -> bool:
    if ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing"):
        return True
    regions = ds.get("SequenceOfUltrasoundRegions") or []
    return any(r.get("PhysicalDeltaX") for r in regions)


def check_attributes(view: StudyView) -> CheckItem:
    """Type 1 and Type 2 attributes each instance's IOD requires."""
    missing: dict[tuple[str, str, bool], list[str]] = defaultdict(list)
    unknown_iods: Counter[str] = Counter()
    unreadable = [r.sop_instance_uid for rows in view.rows.values() for r in rows
                  if r.sop_instance_uid not in view.headers]
    for series_uid, rows in view.rows.items():
        for r in rows:
            ds = view.headers.get(r.sop_instance_uid)
            if ds is None:
                continue
            if not iod_name(r.sop_class_uid):
                unknown_iods[r.sop_class_uid] += 1
            for m in missing_attributes(ds):
                missing[(m.type, m.keyword, m.empty)].append(series_uid)
    numbers = {s.series_uid: s.series_number for s in view.series}
    details = [f"{len(unreadable)} instance(s) could not be read"] if unreadable else []
    for (kind, keyword, empty), where in sorted(missing.items()):
        series_numbers = sorted({str(numbers.get(s)) for s in where})
        details.append(f"Type {kind} {keyword} {'empty' if empty else 'missing'} in {len(where)} instance(s) "
                       f"(series {', '.join(series_numbers)})")
    type1 = any(k[0] == "1" for k in missing) or unreadable
    status = FAIL if type1 else WARN if missing else PASS
    message = (details[0] + (f" (and {len(details) - 1} more)" if len(details) > 1 else "")) if details else \
        "Every required attribute is present"
    if unknown_iods and not details:
        message += f" ({sum(unknown_iods.values())} instance(s) of other IODs not checked)"
    return CheckItem("attributes", "Required attributes", status, message, details)


def check_study(cache: StudyCache, study_uid: str, view: StudyView | None = None) -> list[CheckItem]:
    """Every local check of a study (no network), in checklist order.

    Raises
    ------
    QcError
        When the study is not in the cache.
    """
    view = view or load_study(cache, study_uid)
    items = [check_patient(view), check_rejected(view)]
    items.extend(check_series(cache, view, s) for s in view.series)
    items.append(check_attributes(view))
    return items
