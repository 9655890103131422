"""Study and series facts read from the cache, for the matcher and the selectors.

Almost everything comes from the index.  Two attributes the index does not
keep are read from file headers, few of them: Procedure Code Sequence from
one image of the study, and Patient Orientation from the images of
projection series (CR, DX, MG ...), where it decides how a mammogram is
turned.  A third is read from headers only for caches indexed before the
index took the orientation of enhanced multi-frame images from their
functional groups: such a row has frames but no orientation, and the
image's Plane comes from its header (no migration or re-scan of the cache).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from pathlib import Path

import pydicom

from workstation.hanging.attributes import (
    IMAGE_LEVEL,
    ImageFacts,
    SeriesFacts,
    StudyFacts,
    plane_of,
    split_values,
)
from workstation.dicom.header import functional_group_orientation
from workstation.hanging.constraints import Value
from workstation.store.cache import StudyCache
from workstation.store.queries import InstanceRow, SeriesRow, StudyFilter, StudyRow

log = logging.getLogger(__name__)

#: Modalities of projection images, whose Patient Orientation decides how they are turned.
PROJECTION_MODALITIES = frozenset({"CR", "DX", "MG", "IO", "PX", "RF", "RG", "XA"})
#: More images than this in a projection series: only the first one's header is read.
_MAX_HEADERS_PER_SERIES = 16


def _read_header(path: Path, tags: list[str]) -> pydicom.Dataset | None:
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, specific_tags=tags)
    except Exception:  # noqa: BLE001 - one unreadable header leaves that attribute missing, no more
        log.warning("could not read the header of %s", path.name)
        return None


_FUNCTIONAL_GROUPS = ["SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"]


def _enhanced_orientation(cache: StudyCache, row: InstanceRow) -> str:
    """The orientation of an enhanced multi-frame image indexed without it ('' when it has none)."""
    ds = _read_header(cache.path_of(row), _FUNCTIONAL_GROUPS)
    return functional_group_orientation(ds) if ds is not None else ""


def _image_attributes(row: InstanceRow, orientation: Value, image_orientation: str = "") -> dict[str, Value]:
    return {
        "Plane": plane_of(row.image_orientation or image_orientation or None),
        "SliceThickness": row.slice_thickness,
        "ImageType": split_values(row.image_type),
        "ViewPosition": split_values(row.view_position),
        "ImageLaterality": split_values(row.image_laterality),
        "NumberOfFrames": row.number_of_frames or 1,
        "PatientOrientation": orientation,
    }


def _merge(values: list[Value]) -> Value:
    """One image-level value for the series: the common one, or all distinct values."""
    distinct: list[Value] = []
    for v in values:
        if v not in distinct:
            distinct.append(v)
    if len(distinct) == 1:
        return distinct[0]
    flat: list[Any] = []
    for v in distinct:
        for item in (v if isinstance(v, tuple) else (v,)):
            if item is not None and item not in flat:
                flat.append(item)
    return tuple(flat) or None


def series_facts(cache: StudyCache, series: SeriesRow, instances: list[InstanceRow] | None = None
                 ) -> SeriesFacts | None:
    """Facts of one series, or None when it holds no images (SR, KO, PR ...).

    Parameters
    ----------
    instances : list of InstanceRow, optional
        The series' instances when already read (else they are asked of the cache).
    """
    rows = [r for r in (cache.instances(series.series_uid) if instances is None else instances) if r.rows]
    if not rows:
        return None
    orientations: dict[str, Value] = {}
    if series.modality.upper() in PROJECTION_MODALITIES:
        for r in rows[:_MAX_HEADERS_PER_SERIES]:
            ds = _read_header(cache.path_of(r), ["PatientOrientation"])
            if ds is not None and "PatientOrientation" in ds:
                orientations[r.sop_instance_uid] = split_values("\\".join(map(str, ds.PatientOrientation)))
        first = orientations.get(rows[0].sop_instance_uid)
        for r in rows[_MAX_HEADERS_PER_SERIES:]:
            orientations[r.sop_instance_uid] = first
    enhanced: dict[str, str] = {}
    if series.modality.upper() not in PROJECTION_MODALITIES | {"US"}:
        multiframe = [r for r in rows if (r.number_of_frames or 1) > 1 and not r.image_orientation]
        for r in multiframe[:_MAX_HEADERS_PER_SERIES]:
            enhanced[r.sop_instance_uid] = _enhanced_orientation(cache, r)
    per_image = [_image_attributes(r, orientations.get(r.sop_instance_uid), enhanced.get(r.sop_instance_uid, ""))
                 for r in rows]
    attributes: dict[str, Value] = {
        "Modality": series.modality or None,
        "SeriesDescription": series.description or None,
        "SeriesNumber": series.series_number,
        "ProtocolName": series.protocol_name or None,
        "BodyPartExamined": split_values(series.body_part),
        "Laterality": split_values(series.laterality),
        "ContrastBolusAgent": series.contrast_bolus_agent or None,
        "NumberOfSeriesRelatedInstances": len(rows),
    }
    images: tuple[ImageFacts, ...] = ()
    for name in sorted(IMAGE_LEVEL):
        attributes[name] = _merge([p[name] for p in per_image])
    if any(p != per_image[0] for p in per_image[1:]):
        images = tuple(ImageFacts(r.sop_instance_uid, p) for r, p in zip(rows, per_image, strict=True))
    number = "" if series.series_number is None else f"{series.series_number}: "
    return SeriesFacts(
        series_uid=series.series_uid,
        attributes=attributes,
        number_of_images=sum(max(r.number_of_frames or 1, 1) for r in rows),
        images=images,
        label=f"{number}{series.description or series.modality or 'series'}",
    )


# Procedure codes read from a file, by the file as indexed (path, size, hash): a study's candidates for
# priors are judged again at every open, and a cached file never changes under its hash.
_PROCEDURE_CODES: dict[tuple[str, int, str], Value] = {}
_PROCEDURE_CODES_KEPT = 4096


def _procedure_codes(cache: StudyCache, series: list[SeriesRow],
                     by_series: Mapping[str, list[InstanceRow]] | None = None) -> Value:
    for s in series:
        instances = cache.instances(s.series_uid) if by_series is None else by_series.get(s.series_uid, [])
        if not instances:
            continue
        row = instances[0]
        key = (row.file_path, row.file_size, row.file_hash)
        if row.file_hash and key in _PROCEDURE_CODES:
            return _PROCEDURE_CODES[key]
        ds = _read_header(cache.path_of(row), ["ProcedureCodeSequence"])
        codes = _codes_of(ds)
        if row.file_hash and ds is not None:  # an unreadable header is tried again next time
            if len(_PROCEDURE_CODES) >= _PROCEDURE_CODES_KEPT:
                _PROCEDURE_CODES.clear()
            _PROCEDURE_CODES[key] = codes
        return codes
    return None


def _codes_of(ds: pydicom.Dataset | None) -> Value:
    if ds is None or "ProcedureCodeSequence" not in ds:
        return None
    values = []
    for item in ds.ProcedureCodeSequence:
        values += [str(item.get(k, "") or "") for k in ("CodeValue", "CodeMeaning")]
    return split_values("\\".join(v.replace("\\", " ") for v in values if v))


def facts_of_row(row: StudyRow, extra: Mapping[str, Value] | None = None, *, series: tuple[SeriesFacts, ...] = (),
                 in_cache: bool = True, source: str = "cache") -> StudyFacts:
    """Study facts from a study row (the index's, or one made from a C-FIND answer)."""
    attributes: dict[str, Value] = {
        "ModalitiesInStudy": split_values(row.modalities),
        "BodyPartExamined": split_values(row.body_parts),
        "StudyDescription": row.description or None,
        "InstitutionName": row.institution or None,
        "NumberOfStudyRelatedSeries": row.num_series,
        "NumberOfStudyRelatedInstances": row.num_instances,
        "PatientSex": row.sex or None,
        "StudyDate": row.study_date or None,
    }
    attributes.update(extra or {})
    return StudyFacts(
        study_uid=row.study_uid, patient_id=row.patient_id or "", issuer=row.issuer or "",
        patient_name=row.patient_name or "", birth_date=row.birth_date or "", study_date=row.study_date or "",
        study_time=row.study_time or "", attributes=attributes, series=series, in_cache=in_cache, source=source,
    )


def study_facts(cache: StudyCache, study_uid: str, *, with_series: bool = True) -> StudyFacts | None:
    """Facts of a cached study, or None when the cache does not hold it.

    Parameters
    ----------
    with_series : bool
        False skips the series' facts (enough to decide whether a study is a
        relevant prior; :func:`study_facts` again once it is used).
    """
    row = cache.study(study_uid)
    if row is None:
        return None
    series_rows = cache.series(study_uid)
    laterality: list[str] = []
    for row_of_series in series_rows:
        laterality += [row_of_series.laterality] if row_of_series.laterality else []
    series: tuple[SeriesFacts, ...] = ()
    # All of the study's instances in one query (the viewer's stacks then reuse them); without the
    # series' facts only the first series' first header is read.
    by_series = cache.study_instances(study_uid) if with_series else None
    if by_series is not None:
        built = [series_facts(cache, s, by_series.get(s.series_uid, [])) for s in series_rows]
        series = tuple(s for s in built if s is not None)
        for facts in series:
            v = facts.get("ImageLaterality")
            laterality += [str(x) for x in v] if isinstance(v, tuple) else ([str(v)] if v else [])
    extra = {
        "Laterality": split_values("\\".join(v for v in dict.fromkeys(laterality) if v.upper() != "U")),
        "ProcedureCodeSequence": _procedure_codes(cache, series_rows, by_series),
    }
    return facts_of_row(row, extra, series=series)


def patient_studies(cache: StudyCache, current: StudyFacts) -> list[StudyFacts]:
    """Other cached studies that may be the patient's (same Patient ID, or same name), without series.

    :func:`workstation.hanging.priors.candidates` decides which are priors
    and which only possible matches.
    """
    rows: dict[str, StudyRow] = {}
    if current.patient_id.strip():
        for r in cache.studies(StudyFilter(patient_id=_exact(current.patient_id))):
            rows[r.study_uid] = r
    if current.patient_name.strip():
        for r in cache.studies(StudyFilter(patient_name=_exact(current.patient_name))):
            rows[r.study_uid] = r
    rows.pop(current.study_uid, None)
    return [f for uid in rows if (f := study_facts(cache, uid, with_series=False)) is not None]


def _exact(text: str) -> str:
    # A pattern with a wildcard is matched whole by the study query (no substring search);
    # "*" at the end of an exact value still matches only the value itself plus anything
    # after it, which the identity check in priors then rules out.
    return text.strip().replace("*", "?") + "*"
