"""Demographic and study correction of a whole study, the IHE IOCM way.

:func:`plan_correction` says exactly what will change (attribute by attribute,
old values and how many instances) without touching anything;
:func:`apply_correction` then writes corrected copies with new SOP Instance
UIDs and new Series Instance UIDs (a copy never shares a series with its
original), each recording the replaced values in Original Attributes
Sequence, stores them in the cache, and rejects the originals with one
rejection note ("Incorrect Modality Worklist Entry" unless told otherwise).
The Study Instance UID stays unless ``new_study`` asks for a new one (the
images belong to another order).  Nothing is ever modified in place.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydicom import config as pydicom_config
from pydicom.datadict import dictionary_description, dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName, validate_value

from workstation.dicom.charset import UTF8, can_encode
from workstation.dicom.uids import new_uid
from workstation.qc import state
from workstation.qc.codes import DEFAULT_CORRECTION_REJECTION, rejection_title
from workstation.qc.copies import CopySpec, make_copy, modification_time
from workstation.qc.instances import (
    QcError,
    QcOutcome,
    header_only,
    operator_name,
    read,
    require_study,
    store,
    study_rows,
)
from workstation.qc.notes import rejected_sop_uids, rejection_note_uids
from workstation.qc.rejection import reject_datasets
from workstation.qc.study_index import adopt_study_attributes, merged_patient_values
from workstation.store.cache import StudyCache
from workstation.store.merges import shown_patient

log = logging.getLogger(__name__)

#: Attributes a study correction may change: the Patient, General Study and Patient Study
#: modules, and the institution (what registration and worklist mistakes touch).
CORRECTABLE = (
    "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientBirthTime", "PatientSex",
    "PatientAge", "PatientSize", "PatientWeight", "PatientComments", "EthnicGroup",
    "AccessionNumber", "StudyDescription", "StudyID", "StudyDate", "StudyTime", "ReferringPhysicianName",
    "AdmittingDiagnosesDescription", "InstitutionName", "InstitutionalDepartmentName",
)
_CORRECTABLE_FOLDED = {k.casefold(): k for k in CORRECTABLE}


@dataclass(frozen=True)
class AttributeChange:
    """One attribute the correction changes.

    Attributes
    ----------
    keyword, name : str
    old : tuple of str
        The distinct values the study's instances hold now ("" for empty or absent).
    new : str
    instances : int
        How many instances get a different value.
    """

    keyword: str
    name: str
    old: tuple[str, ...]
    new: str
    instances: int


@dataclass
class CorrectionPlan:
    """What :func:`apply_correction` will do, for review before it is applied."""

    study_uid: str
    new_study_uid: str
    values: dict[str, str]
    changes: list[AttributeChange]
    originals: list[str]  # SOP Instance UIDs to copy (and then reject)
    series_map: dict[str, str]  # old Series Instance UID -> new
    reason: str
    operator: str
    rejection: str
    skipped_rejected: int = 0
    to_utf8: int = 0  # instances whose character set cannot hold a new value: their copies are written in UTF-8

    def lines(self) -> list[str]:
        """The plan in words, one line each (what the GUI's preview and the CLI print)."""
        out = [f"{c.name}: {' | '.join(repr(v) for v in c.old) or '(absent)'} -> {c.new!r} "
               f"({c.instances} instance{'s' if c.instances != 1 else ''})" for c in self.changes]
        out.append(f"{len(self.originals)} instance(s) in {len(self.series_map)} series copied with new SOP Instance "
                   f"and Series Instance UIDs" + ("" if self.new_study_uid == self.study_uid
                                                  else f" into new study {self.new_study_uid}"))
        out.append(f"originals rejected: {rejection_title(self.rejection).meaning}; reason: {self.reason}")
        if self.to_utf8:
            out.append(f"Specific Character Set -> {UTF8} in {self.to_utf8} cop{'ies' if self.to_utf8 != 1 else 'y'} "
                       "(the new values need it; copied values are re-encoded)")
        if self.skipped_rejected:
            out.append(f"{self.skipped_rejected} rejected instance(s) and rejection note(s) are left alone")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "study_uid": self.study_uid, "new_study_uid": self.new_study_uid, "reason": self.reason,
            "operator": self.operator, "rejection": rejection_title(self.rejection).meaning,
            "changes": [{"keyword": c.keyword, "name": c.name, "old": list(c.old), "new": c.new,
                         "instances": c.instances} for c in self.changes],
            "instances": len(self.originals), "series": dict(self.series_map),
            "skipped_rejected": self.skipped_rejected, "to_utf8": self.to_utf8,
        }


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["PatientName=Doe^John", ...]`` to a dict keyed by the standard's keyword.

    Raises
    ------
    QcError
        A missing ``=``, an attribute a study correction may not change, or a
        value its VR does not allow.
    """
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise QcError(f"{item!r}: expected KEYWORD=VALUE, e.g. PatientName=Doe^John")
        values[_keyword(key.strip())] = value
    return check_values(values)


def _keyword(key: str) -> str:
    keyword = _CORRECTABLE_FOLDED.get(key.casefold())
    if keyword is None:
        raise QcError(f"{key!r} cannot be corrected here; one of: {', '.join(CORRECTABLE)}")
    return keyword


def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:  # never for CORRECTABLE, which holds dictionary keywords only
        raise QcError(f"{keyword!r} is not a DICOM keyword")
    return tag


def check_values(values: Mapping[str, str]) -> dict[str, str]:
    """Validate new values against their VR (length, characters, date format)."""
    out = {}
    for key, value in values.items():
        keyword = _keyword(key)
        value = str(value).strip()
        vr = dictionary_VR(_tag(keyword))
        try:
            validate_value(vr, value, pydicom_config.RAISE)
        except ValueError as exc:
            raise QcError(f"{keyword} = {value!r} is not a valid {vr} value: {exc}") from None
        if not can_encode(value, UTF8):
            raise QcError(f"{keyword}: the value holds characters no character set can encode")
        if keyword == "PatientSex" and value not in ("", "M", "F", "O"):
            raise QcError(f"PatientSex = {value!r}: one of M, F, O (or empty)")
        out[keyword] = value
    if not out:
        raise QcError("nothing to correct: give at least one --set KEYWORD=VALUE")
    return out


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value)


def plan_correction(
    cache: StudyCache,
    study_uid: str,
    values: Mapping[str, str],
    *,
    reason: str,
    operator: str | None = None,
    new_study: bool = False,
    rejection: str = DEFAULT_CORRECTION_REJECTION,
) -> CorrectionPlan:
    """What correcting ``study_uid`` with ``values`` would change (nothing is written).

    Parameters
    ----------
    cache : StudyCache
    study_uid : str
    values : mapping of keyword to str
        New values (see :data:`CORRECTABLE`).
    reason : str
        Why (required; goes into the rejection note and the audit).
    operator : str, optional
        Who (default: the login name).
    new_study : bool
        Give the copies a new Study Instance UID.
    rejection : str
        Rejection title of the originals (:data:`workstation.qc.codes.REJECTION_TITLES`).

    Returns
    -------
    CorrectionPlan

    Raises
    ------
    QcError
        Unknown study, invalid values, no reason, or nothing would change.
    """
    require_study(cache, study_uid)
    if not reason.strip():
        raise QcError("a correction needs a reason (--reason TEXT)")
    try:
        rejection_title(rejection)
    except ValueError as exc:
        raise QcError(str(exc)) from None
    values = check_values(values)
    hidden = rejected_sop_uids(cache, study_uid) | rejection_note_uids(cache, study_uid)
    rows = study_rows(cache, study_uid)
    live = [r for r in rows if r.sop_instance_uid not in hidden]
    if not live:
        raise QcError(f"study {study_uid} has no instance that is not rejected")
    old: dict[str, dict[str, int]] = {k: {} for k in values}
    new_of = dict(values)
    to_utf8 = 0
    shown = shown_patient(cache, study_uid)  # a merged study's copies name the survivor, as its other objects do
    for row in live:
        ds = read(cache, row, pixels=False)
        charset = ds.get("SpecificCharacterSet", "")
        merged = {k: str(v) for k, v in merged_patient_values(shown, ds, values).items()
                  if isinstance(v, (str, PersonName))}  # what the plan lists: text values, not sequences
        wanted = {**merged, **values}
        to_utf8 += any(not can_encode(v, charset) for v in wanted.values())
        for keyword, new in wanted.items():
            current = _text(ds, keyword)
            if current != new or keyword not in ds:
                counts = old.setdefault(keyword, {})
                counts[current] = counts.get(current, 0) + 1
                new_of.setdefault(keyword, new)
    changes = [
        AttributeChange(k, dictionary_description(_tag(k)), tuple(sorted(counts)), new_of[k], sum(counts.values()))
        for k, counts in old.items() if counts
    ]
    if not changes:
        raise QcError("nothing to correct: every instance already has these values")
    series_map = {s: new_uid() for s in dict.fromkeys(r.series_uid for r in live)}
    return CorrectionPlan(
        study_uid=study_uid, new_study_uid=new_uid() if new_study else study_uid, values=dict(values),
        changes=changes, originals=[r.sop_instance_uid for r in live], series_map=series_map, reason=reason.strip(),
        operator=operator_name(operator), rejection=rejection, skipped_rejected=len(rows) - len(live),
        to_utf8=to_utf8,
    )


def apply_correction(cache: StudyCache, plan: CorrectionPlan) -> QcOutcome:
    """Carry out a plan from :func:`plan_correction`.

    Copies are stored one by one (the originals' pixel data is never held for
    the whole study at once); the originals are rejected only after every copy
    is in the cache, so a failure half-way leaves the originals in force.

    Raises
    ------
    QcError
        An original vanished or could not be read, or a copy could not be
        cached; copies stored before stay (listed in the message).
    """
    when = modification_time()
    uid_map: dict[str, str] = dict(plan.series_map)
    sop_map = {uid: new_uid() for uid in plan.originals}
    uid_map.update(sop_map)
    if plan.new_study_uid != plan.study_uid:
        uid_map[plan.study_uid] = plan.new_study_uid
    outcome = QcOutcome()
    headers = []
    shown = shown_patient(cache, plan.study_uid)
    for uid in plan.originals:
        row = cache.instance(uid)
        if row is None:
            raise QcError(f"instance {uid} left the cache since the correction was planned; plan again")
        original = read(cache, row)
        values: dict[str, Any] = merged_patient_values(shown, original, plan.values)
        values.update({k: v for k, v in plan.values.items() if _text(original, k) != v or k not in original})
        spec = CopySpec(sop_map[uid], plan.series_map[row.series_uid],
                        plan.new_study_uid if plan.new_study_uid != plan.study_uid else "", values, uid_map)
        copy_ds = make_copy(original, spec, when=when, operator=plan.operator, source_of_previous_values=row.source_ae)
        try:
            outcome.produced.extend(store(cache, [("copy", copy_ds)]))
        except QcError as exc:
            raise QcError(f"{exc}; {len(outcome.produced)} corrected copies were cached, the originals are "
                          f"not rejected") from None
        headers.append(header_only(original))
    note = reject_datasets(cache, headers, rejection_title(plan.rejection), description=plan.reason,
                           operator=plan.operator)
    outcome.produced.append(note)
    outcome.rejected = list(plan.originals)
    if plan.new_study_uid == plan.study_uid:
        adopt_study_attributes(cache, plan.study_uid, outcome.copies[0].sop_instance_uid)
    state.record_audit(cache, "correct", plan.study_uid, plan.operator, plan.reason,
                       {**plan.as_dict(), "note": note.sop_instance_uid})
    log.info("corrected study %s: %d copies, rejection note %s", plan.study_uid, len(outcome.copies),
             note.sop_instance_uid)
    return outcome
