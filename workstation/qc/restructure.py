"""Splitting a series and merging series, with the same correction handling as a study correction.

A split finds groups in one series (by orientation, by slice position, by
acquisition, or the instances the technologist picked).  The largest group
(for a split by selection: the instances not picked) stays where it is; every
other group is copied into a new series, numbered 1..n in spatial (or
acquisition) order, and its originals are rejected.  A merge copies every
instance of two or more series of one study into one new series, numbered in
spatial order, and rejects all the originals.  Copies get new SOP Instance
UIDs and record what they replaced in Original Attributes Sequence.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from workstation.dicom.patient_identity import compare_identities
from workstation.imaging.patient_module import apply_shown_patient
from workstation.dicom.uids import new_uid
from workstation.model.stack import parse_floats
from workstation.model.stacks import ORIENTATION_TOLERANCE, POSITION_TOLERANCE, plane_name
from workstation.qc import state
from workstation.qc.codes import DEFAULT_RESTRUCTURE_REJECTION, rejection_title
from workstation.qc.copies import CopySpec, make_copy, modification_time
from workstation.qc.instances import QcError, QcOutcome, header_only, operator_name, read, store
from workstation.qc.notes import rejected_sop_uids
from workstation.qc.rejection import next_series_number, reject_datasets
from workstation.qc.study_index import merged_patient_values
from workstation.store.cache import StudyCache
from workstation.store.merges import shown_patient
from workstation.store.queries import InstanceRow, SeriesRow

log = logging.getLogger(__name__)

SPLIT_MODES = ("orientation", "position", "acquisition", "instances")
#: A step this many times the usual one between positions starts a new part (a second station).
PART_GAP_FACTOR = 5.0


@dataclass
class SeriesGroup:
    """Instances that end up in one series.

    Attributes
    ----------
    label : str
        What the group is ("axial", "pass 2", "acquisition 3", "selected" ...).
    sop_uids : list of str
        In their new numbering order.
    new_series_uid : str
        "" for the group that stays in its series untouched.
    series_number : int or None
    description : str
    """

    label: str
    sop_uids: list[str]
    new_series_uid: str = ""
    series_number: int | None = None
    description: str = ""


@dataclass
class RestructurePlan:
    """What a split or merge will do, for review before it is applied."""

    kind: str  # "split" or "merge"
    study_uid: str
    sources: list[str]
    groups: list[SeriesGroup]
    reason: str
    operator: str
    rejection: str
    warnings: list[str] = field(default_factory=list)

    @property
    def moving(self) -> list[SeriesGroup]:
        return [g for g in self.groups if g.new_series_uid]

    def lines(self) -> list[str]:
        out = []
        for g in self.groups:
            n = len(g.sop_uids)
            where = (f"new series {g.series_number} {g.description!r}" if g.new_series_uid else "stay in their series")
            out.append(f"{g.label}: {n} instance{'s' if n != 1 else ''} -> {where}")
        moved = sum(len(g.sop_uids) for g in self.moving)
        out.append(f"{moved} original(s) rejected: {rejection_title(self.rejection).meaning}; reason: {self.reason}")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "study_uid": self.study_uid, "sources": self.sources, "reason": self.reason,
                "operator": self.operator, "rejection": rejection_title(self.rejection).meaning,
                "warnings": self.warnings,
                "groups": [{"label": g.label, "instances": len(g.sop_uids), "new_series_uid": g.new_series_uid,
                            "series_number": g.series_number, "description": g.description} for g in self.groups]}


def _series_row(cache: StudyCache, series_uid: str) -> tuple[SeriesRow, list[InstanceRow]]:
    rows = cache.instances(series_uid)
    if not rows:
        raise QcError(f"no series {series_uid} in the cache (see 'lightbox series STUDY_UID')")
    series = next(s for s in cache.series(rows[0].study_uid) if s.series_uid == series_uid)
    hidden = rejected_sop_uids(cache, rows[0].study_uid)
    live = [r for r in rows if r.sop_instance_uid not in hidden]
    if not live:
        raise QcError(f"every instance of series {series_uid} is rejected")
    return series, live


def _normal(orientation: np.ndarray) -> np.ndarray:
    n = np.cross(orientation[:3], orientation[3:])
    return n / (np.linalg.norm(n) or 1.0)


def _by_orientation(rows: list[InstanceRow]) -> list[tuple[str, list[InstanceRow]]]:
    groups: list[tuple[np.ndarray | None, list[InstanceRow]]] = []
    for row in rows:
        ori = parse_floats(row.image_orientation, 6)
        for key, members in groups:
            same = (key is None and ori is None) or (
                key is not None and ori is not None and np.max(np.abs(key - ori)) <= ORIENTATION_TOLERANCE)
            if same:
                members.append(row)
                break
        else:
            groups.append((ori, [row]))
    named = [(plane_name(_normal(k)) if k is not None else "no orientation", m) for k, m in groups]
    return _unique_labels(named)


def _unique_labels(groups: list[tuple[str, list[InstanceRow]]]) -> list[tuple[str, list[InstanceRow]]]:
    seen: dict[str, int] = {}
    for label, _ in groups:
        seen[label] = seen.get(label, 0) + 1
    count: dict[str, int] = {}
    out = []
    for label, members in groups:
        if seen[label] > 1:
            count[label] = count.get(label, 0) + 1
            label = f"{label} {count[label]}"
        out.append((label, members))
    return out


def _along_normal(row: InstanceRow) -> float | None:
    ori, pos = parse_floats(row.image_orientation, 6), parse_floats(row.image_position, 3)
    return None if ori is None or pos is None else float(np.dot(pos, _normal(ori)))


def _acquisition_key(row: InstanceRow) -> tuple[str, int, str]:
    return (row.acquisition_time, row.instance_number if row.instance_number is not None else 0, row.sop_instance_uid)


def _by_position(rows: list[InstanceRow]) -> list[tuple[str, list[InstanceRow]]]:
    """Passes over the same positions (k-th image at each position -> pass k), then parts far apart."""
    out: list[tuple[str, list[InstanceRow]]] = []
    orientations = _by_orientation(rows)
    for olabel, members in orientations:
        prefix = f"{olabel} " if len(orientations) > 1 else ""
        placed = sorted(((d, r) for r in members if (d := _along_normal(r)) is not None),
                        key=lambda t: (t[0], _acquisition_key(t[1])))
        unplaced = [r for r in members if _along_normal(r) is None]
        passes: dict[int, list[tuple[float, InstanceRow]]] = {}
        cluster_start, k = None, 0
        for d, r in placed:
            if cluster_start is None or d - cluster_start > POSITION_TOLERANCE:
                cluster_start, k = d, 0
            passes.setdefault(k, []).append((d, r))
            k += 1
        for k in sorted(passes):
            parts = _parts(passes[k])
            for i, part in enumerate(parts, start=1):
                out.append((prefix + f"pass {k + 1}" + (f" part {i}" if len(parts) > 1 else ""), part))
        if unplaced:
            out.append((prefix + "no position", unplaced))
    return out


def _parts(placed: list[tuple[float, InstanceRow]]) -> list[list[InstanceRow]]:
    if len(placed) < 3:
        return [[r for _, r in placed]]
    steps = np.diff([d for d, _ in placed])
    usual = float(np.median(steps))
    parts = [[placed[0][1]]]
    for step, (_, r) in zip(steps, placed[1:], strict=True):
        if usual > 0 and step > PART_GAP_FACTOR * usual:
            parts.append([])
        parts[-1].append(r)
    return parts


def _by_acquisition(cache: StudyCache, rows: list[InstanceRow]) -> list[tuple[str, list[InstanceRow]]]:
    groups: dict[str, list[InstanceRow]] = {}
    for row in rows:
        ds = read(cache, row, pixels=False)
        number = ds.get("AcquisitionNumber", None)
        key = str(number) if number not in (None, "") else ""
        groups.setdefault(key, []).append(row)
    return [(f"acquisition {k}" if k else "no acquisition number", m) for k, m in groups.items()]


def _spatial_order(rows: list[InstanceRow]) -> list[InstanceRow]:
    """Along the slice normal when all share one orientation and have positions; else by number."""
    oris = [o for o in (parse_floats(r.image_orientation, 6) for r in rows) if o is not None]
    d = [x for x in (_along_normal(r) for r in rows) if x is not None]
    if len(oris) == len(d) == len(rows) and all(
            np.max(np.abs(o - oris[0])) <= ORIENTATION_TOLERANCE for o in oris):
        return [r for _, r in sorted(zip(d, rows, strict=True), key=lambda t: (t[0], _acquisition_key(t[1])))]
    return sorted(rows, key=lambda r: (r.instance_number is None, r.instance_number or 0, r.acquisition_time))


def plan_split(
    cache: StudyCache,
    series_uid: str,
    by: str,
    instances: Sequence[str] = (),
    *,
    reason: str = "",
    operator: str | None = None,
    rejection: str = DEFAULT_RESTRUCTURE_REJECTION,
) -> RestructurePlan:
    """How ``series_uid`` would be split (nothing is written).

    Parameters
    ----------
    cache : StudyCache
    series_uid : str
    by : {"orientation", "position", "acquisition", "instances"}
    instances : sequence of str
        With ``by="instances"``: the SOP Instance UIDs that move to a new series.
    reason, operator, rejection
        As for :func:`workstation.qc.correction.plan_correction` (reason defaults to a description of the split).

    Raises
    ------
    QcError
        Unknown series or mode, instances not in the series, or nothing to split.
    """
    if by not in SPLIT_MODES:
        raise QcError(f"unknown split mode {by!r}: one of {', '.join(SPLIT_MODES)}")
    series, rows = _series_row(cache, series_uid)
    if by == "instances":
        wanted = list(dict.fromkeys(u.strip() for u in instances if u.strip()))
        if not wanted:
            raise QcError("--by instances needs the SOP Instance UIDs that move to the new series")
        present = {r.sop_instance_uid for r in rows}
        strangers = [u for u in wanted if u not in present]
        if strangers:
            raise QcError(f"not (unrejected) in series {series_uid}: {', '.join(strangers[:5])}")
        picked = set(wanted)
        found = [("not selected", [r for r in rows if r.sop_instance_uid not in picked]),
                 ("selected", [r for r in rows if r.sop_instance_uid in picked])]
        if not found[0][1]:
            raise QcError("that is the whole series: nothing would stay")
    elif by == "orientation":
        found = _by_orientation(rows)
    elif by == "position":
        found = _by_position(rows)
    else:
        found = _by_acquisition(cache, rows)
    if len(found) < 2:
        raise QcError(f"nothing to split: the {len(rows)} instance(s) of series {series_uid} form one group by {by}")
    if by != "instances":
        found.sort(key=lambda g: -len(g[1]))  # the largest stays
    number = next_series_number(cache, series.study_uid)
    groups = [SeriesGroup(found[0][0], [r.sop_instance_uid for r in found[0][1]])]
    for label, members in found[1:]:
        ordered = _spatial_order(members) if by != "acquisition" else sorted(members, key=_acquisition_key)
        groups.append(SeriesGroup(label, [r.sop_instance_uid for r in ordered], new_uid(), number,
                                  f"{series.description} {label}".strip()[:64]))
        number += 1
    return RestructurePlan("split", series.study_uid, [series_uid], groups,
                           reason.strip() or f"series split by {by}", operator_name(operator), _checked(rejection))


def plan_merge(
    cache: StudyCache,
    series_uids: Sequence[str],
    *,
    reason: str = "",
    operator: str | None = None,
    rejection: str = DEFAULT_RESTRUCTURE_REJECTION,
) -> RestructurePlan:
    """How ``series_uids`` would be merged into one new series (nothing is written).

    Raises
    ------
    QcError
        Fewer than two series, unknown series, series of different studies or modalities.
    """
    uids = list(dict.fromkeys(series_uids))
    if len(uids) < 2:
        raise QcError("a merge needs at least two different series")
    found = [_series_row(cache, uid) for uid in uids]
    studies = {s.study_uid for s, _ in found}
    if len(studies) > 1:
        raise QcError("the series belong to different studies: correct the study first, then merge")
    modalities = {s.modality for s, _ in found}
    if len(modalities) > 1:
        raise QcError(f"cannot merge series of different modalities ({', '.join(sorted(modalities))})")
    # A study may hold another patient's series (a mix-up the merge must not make permanent).
    shown = shown_patient(cache, found[0][0].study_uid)

    def header(row: InstanceRow) -> Dataset:
        ds = read(cache, row, pixels=False)
        if shown is not None:  # a merged study: its images' merged-away identity and its copies' are one patient
            apply_shown_patient(ds, shown)
        return ds

    first_header = header(found[0][1][0]) if found[0][1] else None
    for series, members in found[1:]:
        if first_header is None or not members:
            continue
        check = compare_identities(first_header, header(members[0]))
        if not check.same:
            raise QcError("cannot merge series of different patients: "
                          + check.message(f"series {found[0][0].series_number}", f"series {series.series_number}")
                          + "; correct the series first")
    warnings = []
    frames = {s.frame_of_reference_uid for s, _ in found}
    if len(frames) > 1:
        warnings.append("the series have different Frames of Reference: the merged series keeps each image's own")
    rows = [r for _, members in found for r in members]
    ordered = _spatial_order(rows)
    first = found[0][0]
    group = SeriesGroup("merged", [r.sop_instance_uid for r in ordered], new_uid(),
                        first.series_number if first.series_number is not None
                        else next_series_number(cache, first.study_uid),
                        first.description)
    return RestructurePlan("merge", first.study_uid, uids, [group],
                           reason.strip() or f"{len(uids)} series merged", operator_name(operator),
                           _checked(rejection), warnings)


def _checked(rejection: str) -> str:
    try:
        rejection_title(rejection)
    except ValueError as exc:
        raise QcError(str(exc)) from None
    return rejection


def apply_restructure(cache: StudyCache, plan: RestructurePlan) -> QcOutcome:
    """Carry out a split or merge plan: copies into the new series, then one rejection note.

    Raises
    ------
    QcError
        An original left the cache since planning, or a copy could not be
        cached (the originals are then not rejected).
    """
    when = modification_time()
    uid_map = {uid: new_uid() for g in plan.moving for uid in g.sop_uids}
    outcome = QcOutcome()
    headers = []
    shown = shown_patient(cache, plan.study_uid)  # copies of a merged study name the survivor
    for group in plan.moving:
        for number, uid in enumerate(group.sop_uids, start=1):
            row = cache.instance(uid)
            if row is None:
                raise QcError(f"instance {uid} left the cache since the {plan.kind} was planned; plan again")
            original = read(cache, row)
            values: dict[str, Any] = {**merged_patient_values(shown, original), "InstanceNumber": number,
                                      "SeriesNumber": group.series_number, "SeriesDescription": group.description}
            spec = CopySpec(uid_map[uid], group.new_series_uid, "", values, uid_map)
            copy_ds = make_copy(original, spec, when=when, operator=plan.operator,
                                source_of_previous_values=row.source_ae)
            try:
                outcome.produced.extend(store(cache, [("copy", copy_ds)]))
            except QcError as exc:
                raise QcError(f"{exc}; {len(outcome.produced)} copies were cached, "
                              "the originals are not rejected") from None
            headers.append(header_only(original))
    note = reject_datasets(cache, headers, rejection_title(plan.rejection), description=plan.reason,
                           operator=plan.operator)
    outcome.produced.append(note)
    outcome.rejected = [uid for g in plan.moving for uid in g.sop_uids]
    state.record_audit(cache, plan.kind, plan.study_uid, plan.operator, plan.reason,
                       {**plan.as_dict(), "note": note.sop_instance_uid})
    log.info("%s in study %s: %d copies in %d new series, rejection note %s", plan.kind, plan.study_uid,
             len(outcome.copies), len(plan.moving), note.sop_instance_uid)
    return outcome
