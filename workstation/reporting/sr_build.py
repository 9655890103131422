"""Building the report as a DICOM Comprehensive SR (TID 2000) with highdicom.

The content tree:

- root CONTAINER, the template's document title (TID 2000)
  - HAS CONCEPT MOD: language of content (TID 1204)
  - HAS OBS CONTEXT: observer type Person, name, organisation (TID 1001/1002)
  - CONTAINS one CONTAINER per section with a value (History, Findings, …)
    - CONTAINS TEXT / CODE / NUM / DATE per filled field; fields with a heading
      in the template ("Lungs and airways") go into a CONTAINER of that heading's
      concept (one per heading: consecutive fields of one heading share it)
    - NUM values carry the decimal string rounded to their unit's precision
      (:mod:`~workstation.reporting.precision`)
    - (measurement section) CONTAINS NUM per measurement, INFERRED FROM a
      SCOORD on the image, SELECTED FROM the IMAGE (TID 1400 style)
  - CONTAINS CONTAINER Key Images: IMAGE items (Best illustration of finding)
  - CONTAINS TEXT Comment: the reason of an amendment

The SR is encoded Explicit VR Little Endian (the MAC transfer syntax of
signatures) and UTF-8 (``ISO_IR 192``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from workstation import __version__
from workstation.dicom.charset import highdicom_ready
from workstation.imaging.patient_module import apply_shown_patient
from workstation.reporting import codes
from workstation.reporting.inputs import ImageRef, KeyImage, Measurement, ReportContent
from workstation.reporting.templates import FieldSpec, ReportTemplate, TemplateError
from workstation.store.merges import ShownPatient

if TYPE_CHECKING:  # highdicom (0.2-0.5 s to import) is loaded where an SR is built, not with the window
    from highdicom.sr import (
        CodedConcept,
        ContainerContentItem,
        ContentItem,
        ContentSequence,
        ImageContentItem,
        NumContentItem,
        RelationshipTypeValues,
    )

C = "CONTAINS"  # a relationship type, as highdicom's RelationshipTypeValues names it
MANUFACTURER = "Lightbox"
REPORT_SERIES_NUMBER = 9001
REPORT_SERIES_DESCRIPTION = "Lightbox reports"
#: Private coding scheme of the readers' identifiers at the site (Verifying Observer Identification Code).
STAFF_SCHEME = "99LBXSTAFF"


class ReportState(str, Enum):
    """Where a report is in its life (PS3.3 C.17.2 flags)."""

    PRELIMINARY = "preliminary"  # PARTIAL, UNVERIFIED
    FINAL = "final"  # COMPLETE, VERIFIED, signed


class ContentError(ValueError):
    """The report cannot be built: a required field is empty or a value does not fit."""


@dataclass(frozen=True)
class Observer:
    """The radiologist: name as DICOM PN (``Family^Given``) and organisation."""

    name: str
    organisation: str = ""
    #: The reader's identifier at the site (staff number, login): the Verifying Observer Identification Code.
    identifier: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ContentError("the report needs the radiologist's name (set it in the reporting settings)")


@dataclass
class BuildRequest:
    """Everything :func:`build_sr` needs besides the content."""

    template: ReportTemplate
    content: ReportContent
    evidence: Sequence[Dataset]  # headers of the study's images (at least one: patient and study come from it)
    observer: Observer
    state: ReportState = ReportState.PRELIMINARY
    predecessor: Dataset | None = None  # the SR an amendment replaces
    amendment_reason: str = ""
    sop_instance_uid: str = field(default_factory=lambda: generate_uid(prefix="2.25."))
    instance_number: int = 1
    now: dt.datetime | None = None
    # The study's surviving patient when the RIS merged it (store.merges.shown_patient): the report names it.
    shown: ShownPatient | None = None


def report_series_uid(study_uid: str) -> str:
    """The same report series for every Lightbox report of a study."""
    return generate_uid(prefix="2.25.", entropy_srcs=[study_uid, "lightbox-report-series"])


def missing_required(template: ReportTemplate, content: ReportContent) -> list[FieldSpec]:
    """The required fields left empty."""
    return [f for f in template.fields if f.required and not content.values.get(f.id, "").strip()]


def _field_item(spec: FieldSpec, text: str) -> ContentItem:
    from highdicom.sr import CodeContentItem, DateContentItem, TextContentItem

    try:
        value = spec.parse(text)
    except TemplateError as exc:
        raise ContentError(str(exc)) from None
    name = spec.concept.concept()
    if spec.type == "text":
        return TextContentItem(name, value, relationship_type=C)
    if spec.type == "code":
        return CodeContentItem(name, value.concept(), relationship_type=C)
    if spec.type == "numeric":
        if spec.unit is None:  # templates refuse a numeric field without a unit
            raise ContentError(f"numeric field {spec.id!r} has no unit")
        return _num(name, value, spec.unit.concept(), decimal_string_places(value, spec.places), C)
    return DateContentItem(name, dt.date(int(value[:4]), int(value[4:6]), int(value[6:])), relationship_type=C)


def decimal_string_places(value: float, places: int) -> str:
    """``value`` rounded half away from zero to ``places`` decimals, as a decimal string."""
    from decimal import ROUND_HALF_UP, Decimal

    d = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{d:f}"
    return text[1:] if text.startswith("-") and d == 0 else text


def _num(name: CodedConcept, value: float, unit: CodedConcept, text: str,
         relationship: str | RelationshipTypeValues) -> NumContentItem:
    """A NUM whose Numeric Value is exactly ``text`` (the rounded value), not the float's 16 digits."""
    from highdicom.sr import NumContentItem

    num = NumContentItem(name, float(text), unit, relationship_type=relationship)
    measured = num.MeasuredValueSequence[0]
    measured.NumericValue = text
    # Floating Point Value is for values a decimal string cannot hold; the rounded one it holds exactly.
    if "FloatingPointValue" in measured:
        del measured.FloatingPointValue
    return num


def _image_item(name: codes.Coded, ref: ImageRef, relationship: str | RelationshipTypeValues) -> ImageContentItem:
    from highdicom.sr import ImageContentItem

    return ImageContentItem(
        name.concept(), ref.sop_class_uid, ref.sop_instance_uid,
        referenced_frame_numbers=ref.frame, relationship_type=relationship,
    )


def _content(items: Sequence[ContentItem]) -> ContentSequence:
    from highdicom.sr import ContentSequence

    # highdicom wraps whatever is assigned to ContentSequence in a ContentSequence: wrapping it here states
    # the type its annotation of that assignment asks for.
    return ContentSequence(items)


def measurement_item(m: Measurement) -> NumContentItem:
    """NUM ← INFERRED FROM SCOORD ← SELECTED FROM IMAGE (the measured image and the drawn graphic)."""
    from highdicom.sr import RelationshipTypeValues, ScoordContentItem, TextContentItem

    num = _num(m.concept.concept(), m.value, m.unit_code.concept(), m.decimal_string, C)
    scoord = ScoordContentItem(
        codes.IMAGE_REGION.concept(), m.graphic_type, np.array(m.points, dtype=float),
        relationship_type=RelationshipTypeValues.INFERRED_FROM,
    )
    scoord.ContentSequence = _content([_image_item(codes.SOURCE_OF_MEASUREMENT, m.image,
                                                   RelationshipTypeValues.SELECTED_FROM)])
    num.ContentSequence = _content([scoord])
    if m.label:
        num.ContentSequence.append(TextContentItem(codes.TRACKING_IDENTIFIER.concept(), m.label,
                                                   relationship_type=RelationshipTypeValues.HAS_CONCEPT_MOD))
    return num


def content_tree(req: BuildRequest) -> ContainerContentItem:
    """The TID 2000 content tree (see the module docstring)."""
    from highdicom.sr import (
        CodeContentItem,
        ContainerContentItem,
        PnameContentItem,
        RelationshipTypeValues,
        TextContentItem,
    )

    tpl, content = req.template, req.content
    root = ContainerContentItem(tpl.document_title.concept(), template_id="2000")
    items: list[ContentItem] = [
        CodeContentItem(codes.LANGUAGE_OF_CONTENT.concept(), codes.ENGLISH.concept(),
                        relationship_type=RelationshipTypeValues.HAS_CONCEPT_MOD),
        CodeContentItem(codes.OBSERVER_TYPE.concept(), codes.PERSON.concept(),
                        relationship_type=RelationshipTypeValues.HAS_OBS_CONTEXT),
        PnameContentItem(codes.PERSON_OBSERVER_NAME.concept(), req.observer.name,
                         relationship_type=RelationshipTypeValues.HAS_OBS_CONTEXT),
    ]
    if req.observer.organisation:
        items.append(TextContentItem(codes.PERSON_OBSERVER_ORGANIZATION.concept(), req.observer.organisation,
                                     relationship_type=RelationshipTypeValues.HAS_OBS_CONTEXT))
    for section in tpl.sections:
        children: list[ContentItem] = []
        # (the heading's code, its CONTAINER) while consecutive fields share it
        open_heading: tuple[codes.Coded, ContainerContentItem] | None = None
        for f in section.fields:
            if not content.values.get(f.id, "").strip():
                continue
            item = _field_item(f, content.values[f.id])
            if f.heading is None:
                open_heading = None
                children.append(item)
            elif open_heading is not None and open_heading[0] == f.heading:
                open_heading[1].ContentSequence.append(item)
            else:
                # The template's sub-heading ("Lungs and airways") stays a heading of its own.
                heading = ContainerContentItem(f.heading.concept(), relationship_type=C)
                heading.ContentSequence = _content([item])
                open_heading = (f.heading, heading)
                children.append(heading)
        if section.id == tpl.measurement_section:
            children += [measurement_item(m) for m in content.measurements]
        if children:
            container = ContainerContentItem(section.concept.concept(), relationship_type=C)
            container.ContentSequence = _content(children)
            items.append(container)
    if content.key_images:
        container = ContainerContentItem(codes.KEY_IMAGES.concept(), relationship_type=C)
        container.ContentSequence = _content(_key_image_items(content.key_images))
        items.append(container)
    if req.predecessor is not None and req.amendment_reason.strip():
        items.append(TextContentItem(codes.COMMENT.concept(), f"Amended: {req.amendment_reason.strip()}",
                                     relationship_type=C))
    root.ContentSequence = _content(items)
    return root


def _key_image_items(key_images: Sequence[KeyImage]) -> list[ContentItem]:
    from highdicom.sr import TextContentItem

    out: list[ContentItem] = []
    for k in key_images:
        if k.note.strip():
            out.append(TextContentItem(codes.KEY_OBJECT_DESCRIPTION.concept(), k.note.strip(), relationship_type=C))
        out.append(_image_item(codes.BEST_ILLUSTRATION, k.image, C))
    return out


def build_sr(req: BuildRequest) -> Dataset:
    """Build the Comprehensive SR for ``req``.

    Raises
    ------
    ContentError
        A required field is empty (for a final report), a value does not fit
        its field, or there is no evidence to take the patient and study from.
    """
    if not req.evidence:
        raise ContentError("no image of the study is in the cache: the report takes patient and study from one")
    if req.state is ReportState.FINAL:
        missing = missing_required(req.template, req.content)
        if missing:
            raise ContentError("required fields are empty: " + ", ".join(f.label for f in missing))
    referenced = {m.image.sop_instance_uid for m in req.content.measurements} | {
        k.image.sop_instance_uid for k in req.content.key_images
    }
    evidence = [highdicom_ready(ds) for ds in _evidence(req.evidence, referenced)]  # ISO 2022 images too
    study_uid = str(evidence[0].StudyInstanceUID)
    final = req.state is ReportState.FINAL
    from highdicom.sr import ComprehensiveSR

    sr = ComprehensiveSR(
        evidence=evidence,
        content=content_tree(req),
        series_instance_uid=report_series_uid(study_uid),
        series_number=REPORT_SERIES_NUMBER,
        sop_instance_uid=req.sop_instance_uid,
        instance_number=req.instance_number,
        manufacturer=MANUFACTURER,
        is_complete=final,
        is_final=final,
        is_verified=final,
        previous_versions=[req.predecessor] if req.predecessor is not None else None,
        transfer_syntax_uid=ExplicitVRLittleEndian,
        series_description=REPORT_SERIES_DESCRIPTION,
        verifying_observer_name=req.observer.name if final else None,
        verifying_organization=(req.observer.organisation or "Unknown") if final else None,
    )
    return _finish(sr, req)


def _evidence(evidence: Sequence[Dataset], referenced: set[str]) -> list[Dataset]:
    by_uid = {str(ds.SOPInstanceUID): ds for ds in evidence}
    missing = referenced - set(by_uid)
    if missing:
        raise ContentError(f"{len(missing)} referenced image(s) are not in the cache: {', '.join(sorted(missing))}")
    # The referenced images, or (nothing referenced) one image for the patient and study.
    return [by_uid[u] for u in sorted(referenced)] if referenced else [evidence[0]]


def _finish(sr: Dataset, req: BuildRequest) -> Dataset:
    """What highdicom leaves to us: character set, software, UTC-free timestamps kept as highdicom made them."""
    sr.SpecificCharacterSet = "ISO_IR 192"
    local = sorted({f.heading.scheme for f in req.template.fields
                    if f.heading is not None and f.heading.scheme.startswith("99")})
    observer_id = req.observer.identifier.strip()[:16]
    if observer_id and "VerifyingObserverSequence" in sr:
        code = Dataset()
        code.CodeValue = observer_id
        code.CodingSchemeDesignator = STAFF_SCHEME
        code.CodeMeaning = req.observer.name.replace("^", " ").strip()[:64] or observer_id
        for item in sr.VerifyingObserverSequence:
            item.VerifyingObserverIdentificationCodeSequence = [code]
        local.append(STAFF_SCHEME)
    if local:
        # Private coding schemes are identified in the header (PS3.3 C.12.1.1.4).
        items = []
        for scheme in local:
            item = Dataset()
            item.CodingSchemeDesignator = scheme
            item.CodingSchemeName = ("The site's staff identifiers" if scheme == STAFF_SCHEME
                                     else "Lightbox report template headings")
            item.CodingSchemeResponsibleOrganization = "Lightbox"
            items.append(item)
        sr.CodingSchemeIdentificationSequence = items
    if req.shown is not None:
        apply_shown_patient(sr, req.shown)
    sr.SoftwareVersions = __version__
    sr.ManufacturerModelName = "Lightbox workstation"
    if req.now is not None:
        sr.ContentDate = req.now.strftime("%Y%m%d")
        sr.ContentTime = req.now.strftime("%H%M%S")
    if "VerifyingObserverSequence" in sr:
        for item in sr.VerifyingObserverSequence:
            # Type 2 Verifying Observer Identification Code Sequence: present, may be empty.
            if "VerifyingObserverIdentificationCodeSequence" not in item:
                item.VerifyingObserverIdentificationCodeSequence = []
    sr.file_meta.ImplementationVersionName = f"LIGHTBOX_{__version__}"[:16]
    return sr
