"""What the demo studies contain: patients, studies and series, without pixels.

Everything here is plain data computed from the demo size, so tests and
callers can inspect the planned series (counts, geometry, UIDs) of the full
demo without generating it.  UIDs are derived from a fixed namespace and a
descriptive key (``2.25.<uuid5>``), so regenerating gives the same UIDs; the
key includes :data:`DEMO_VERSION` and the size, so changed content or a
different size never reuses a UID.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from pydicom.uid import (
    CTImageStorage,
    DigitalMammographyXRayImageStorageForPresentation,
    DigitalXRayImageStorageForPresentation,
    MRImageStorage,
    PositronEmissionTomographyImageStorage,
    UltrasoundMultiFrameImageStorage,
)

from workstation.demo.phantoms import PRIOR_CT_TABLE_SHIFT

DEMO_VERSION = 4
"""Bumped whenever the generated content changes (and with it every UID)."""

_UID_NAMESPACE = uuid.UUID("5f0c3a4e-1b7d-4c2a-9e61-7a1d2b3c4d5e")

INSTITUTION = "Lightbox Demo Hospital"
MANUFACTURER = "Lightbox Demo"
ISSUER_OF_PATIENT_ID = "LIGHTBOX-DEMO"


def demo_uid(size: str, *parts: object) -> str:
    """Deterministic UID for a demo object: ``2.25.`` and the integer of a UUID v5.

    Parameters
    ----------
    size : str
        Demo size ("full" or "small"); part of the key.
    *parts : object
        Descriptive key, e.g. ("ct-chest-2024", "soft", 17).
    """
    key = "/".join(["lightbox-demo", f"v{DEMO_VERSION}", size, *map(str, parts)])
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, key).int}"


@dataclass(frozen=True)
class DemoSize:
    """Matrix sizes and counts of one demo size."""

    ct_matrix: int
    ct_slices: int
    ct_slice_spacing: float
    mr_matrix: int
    mr_axial_slices: int
    mr_axial_spacing: float
    mr_sagittal_slices: int
    mr_sagittal_spacing: float
    dx_matrix: int
    mg_rows: int
    mg_columns: int
    us_rows: int
    us_columns: int
    us_frames: int
    petct_ct_matrix: int
    petct_ct_slices: int
    petct_ct_spacing: float
    pet_matrix: int
    pet_slices: int
    pet_spacing: float


SIZES: Mapping[str, DemoSize] = MappingProxyType(
    {
        "full": DemoSize(512, 200, 1.25, 256, 24, 5.0, 24, 4.0, 2048, 2048, 1664, 480, 640, 48,
                         512, 84, 3.0, 128, 64, 4.0),
        "small": DemoSize(64, 24, 10.0, 32, 12, 10.0, 12, 8.0, 128, 160, 128, 48, 64, 5,
                          64, 24, 10.0, 48, 24, 10.0),
    }
)

CT_FOV_MM = 400.0
CT_FIRST_SLICE_Z = -20.0
MR_AXIAL_FOV_MM = 230.0
MR_SAGITTAL_FOV_MM = 240.0
DX_FIELD_MM = 409.6
DX_CENTRE_Z = -130.0  # patient z of the radiograph's centre row
MG_FIELD_MM = 204.8  # along the rows
US_REGION_CM = (4.8, 4.0)  # width, depth of the B-mode region
PETCT_CT_FOV_MM = 500.0
PET_FOV_PIXEL_MM = {"full": 4.0, "small": 10.0}  # PET pixel size (the field is matrix x pixel)
PET_FIRST_SLICE_Z = {"full": -22.0, "small": -25.0}  # off the CT's slice positions on purpose


@dataclass(frozen=True)
class DemoPatient:
    """A demo patient (Patient module)."""

    patient_id: str
    name: str
    birth_date: str
    sex: str
    character_set: str  # Specific Character Set, "" for the default repertoire
    issuer: str = ISSUER_OF_PATIENT_ID


@dataclass(frozen=True)
class StudyPlan:
    """One planned study (General Study module and a folder name)."""

    key: str
    patient: DemoPatient
    uid: str
    date: str
    time: str
    description: str
    accession_number: str
    study_id: str
    referring_physician: str
    modality: str
    folder: str


@dataclass(frozen=True)
class SeriesPlan:
    """One planned series: header values, geometry and how to draw its pixels.

    Geometry follows the Image Plane module: ``orientation`` is the row then
    column direction cosines, ``first_position`` the centre of the first
    pixel of instance 1, ``slice_step`` the signed distance between
    consecutive instances along the slice normal (row x column).
    """

    key: str
    study: StudyPlan
    uid: str
    number: int
    modality: str
    sop_class_uid: str
    description: str
    protocol_name: str
    body_part: str
    laterality: str
    rows: int
    columns: int
    instances: int
    frames: int
    pixel_spacing: tuple[float, float]
    phantom: str
    frame_of_reference_uid: str = ""
    orientation: tuple[float, ...] | None = None
    first_position: tuple[float, float, float] | None = None
    slice_thickness: float | None = None
    slice_step: float = 0.0
    time: str = ""
    station: str = ""
    model: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def normal(self) -> np.ndarray:
        """Slice normal: row direction x column direction."""
        o = np.asarray(self.orientation, dtype=float)
        return np.cross(o[:3], o[3:])

    def image_plane(self) -> tuple[tuple[float, ...], tuple[float, float, float]]:
        """Orientation and first position of a cross-sectional series.

        Raises
        ------
        ValueError
            A projection image (radiograph, mammogram, ultrasound) has no image plane.
        """
        if self.orientation is None or self.first_position is None:
            raise ValueError(f"series {self.key} has no image plane (a projection image)")
        return self.orientation, self.first_position

    def position(self, index: int) -> tuple[float, float, float]:
        """Image Position (Patient) of instance ``index`` (0-based)."""
        p = np.asarray(self.first_position, dtype=float) + index * self.slice_step * self.normal
        x, y, z = (float(round(v, 4)) for v in p)
        return x, y, z

    def instance_uid(self, index: int) -> str:
        """SOP Instance UID of instance ``index`` (0-based)."""
        return demo_uid(self.params["size"], self.study.key, self.key, index + 1)

    @property
    def path(self) -> str:
        """Folder of the series relative to the output directory."""
        slug = self.description.upper().replace(" ", "_").replace("/", "_")
        return f"{self.study.patient.patient_id}/{self.study.folder}/{self.number:03d}_{slug}"


def demo_patients() -> list[DemoPatient]:
    """The two demo patients: one with an ASCII name, one needing UTF-8 (ISO_IR 192)."""
    return [
        DemoPatient("LBX-0001", "Demo^Robert^J", "19580314", "M", ""),
        DemoPatient("LBX-0002", "Müller^Anna", "19670902", "F", "ISO_IR 192"),
    ]


def planned_studies(size: str = "full") -> list[StudyPlan]:
    """All demo studies, current and prior, in a stable order."""
    robert, anna = demo_patients()

    def study(key: str, patient: DemoPatient, date: str, time: str, description: str, acc: str, sid: str,
              referrer: str, modality: str, folder: str) -> StudyPlan:
        return StudyPlan(
            key, patient, demo_uid(size, key), date, time, description, acc, sid, referrer, modality, folder
        )

    return [
        study("ct-chest-2024", robert, "20240312", "091402", "CT CHEST WITH CONTRAST", "LBXA24031201",
              "8101", "Hale^Margaret^^Dr.", "CT", "20240312_CT_CHEST"),
        study("ct-chest-2023", robert, "20230307", "143011", "CT CHEST WITH CONTRAST", "LBXA23030702",
              "7320", "Hale^Margaret^^Dr.", "CT", "20230307_CT_CHEST"),
        study("dx-chest-2024", robert, "20240312", "084521", "XR CHEST PA AND LATERAL", "LBXA24031202",
              "8100", "Hale^Margaret^^Dr.", "DX", "20240312_DX_CHEST"),
        study("dx-chest-2023", robert, "20230307", "135540", "XR CHEST PA", "LBXA23030701",
              "7319", "Hale^Margaret^^Dr.", "DX", "20230307_DX_CHEST"),
        study("mr-brain-2024", anna, "20240205", "161730", "MR BRAIN WITHOUT CONTRAST", "LBXB24020501",
              "8022", "Weiß^Jürgen^^Dr.", "MR", "20240205_MR_BRAIN"),
        study("mr-brain-2023", anna, "20230130", "154210", "MR BRAIN WITHOUT CONTRAST", "LBXB23013001",
              "7301", "Weiß^Jürgen^^Dr.", "MR", "20230130_MR_BRAIN"),
        study("mg-screening-2024", anna, "20240422", "103015", "MG SCREENING BILATERAL", "LBXB24042201",
              "8240", "Weiß^Jürgen^^Dr.", "MG", "20240422_MG_SCREENING"),
        study("mg-screening-2023", anna, "20230418", "111245", "MG SCREENING BILATERAL", "LBXB23041801",
              "7405", "Weiß^Jürgen^^Dr.", "MG", "20230418_MG_SCREENING"),
        study("us-carotid-2024", anna, "20240422", "113550", "US CAROTID RIGHT", "LBXB24042202",
              "8241", "Weiß^Jürgen^^Dr.", "US", "20240422_US_CAROTID"),
        study("petct-2024", robert, "20240415", "101500", "PET/CT FDG CHEST", "LBXA24041501",
              "8150", "Hale^Margaret^^Dr.", "PT", "20240415_PETCT_FDG"),
    ]  # fmt: skip


def _add_seconds(hhmmss: str, seconds: float) -> str:
    total = int(hhmmss[:2]) * 3600 + int(hhmmss[2:4]) * 60 + int(hhmmss[4:6]) + int(seconds)
    return f"{total // 3600 % 24:02d}{total // 60 % 60:02d}{total % 60:02d}"


def planned_series(size: str = "full") -> list[SeriesPlan]:
    """Every planned series of the demo, with its geometry, counts and UIDs.

    Parameters
    ----------
    size : {"full", "small"}
        Demo size.

    Returns
    -------
    list of SeriesPlan
        In generation order.
    """
    if size not in SIZES:
        raise ValueError(f"unknown demo size {size!r}; expected one of {sorted(SIZES)}")
    s = SIZES[size]
    studies = {st.key: st for st in planned_studies(size)}
    out: list[SeriesPlan] = []

    def add(study_key: str, key: str, number: int, **kw: Any) -> None:
        st = studies[study_key]
        params = dict(kw.pop("params", {}), size=size)
        out.append(
            SeriesPlan(
                key=key,
                study=st,
                uid=demo_uid(size, study_key, key),
                number=number,
                time=_add_seconds(st.time, 60 * number),
                params=MappingProxyType(params),
                **kw,
            )
        )

    # CT chest: two reconstructions of one acquisition, and the prior.
    ct_px = CT_FOV_MM / s.ct_matrix
    axial = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    ct_common = dict(
        modality="CT", sop_class_uid=CTImageStorage, body_part="CHEST", laterality="",
        protocol_name="CT CHEST WITH CONTRAST", rows=s.ct_matrix, columns=s.ct_matrix,
        instances=s.ct_slices, frames=1, pixel_spacing=(ct_px, ct_px), orientation=axial,
        first_position=(-CT_FOV_MM / 2, -CT_FOV_MM / 2, CT_FIRST_SLICE_Z),
        slice_thickness=s.ct_slice_spacing, slice_step=-s.ct_slice_spacing,
        station="CT01", model="Phantom CT 64",
    )  # fmt: skip
    ct_for = demo_uid(size, "ct-chest-2024", "frame-of-reference")
    add("ct-chest-2024", "soft", 2, description="CT CHEST 1.25 SOFT", phantom="ct-soft",
        frame_of_reference_uid=ct_for, params=dict(kernel="STANDARD", shift=(0.0, 0.0, 0.0)), **ct_common)
    add("ct-chest-2024", "lung", 3, description="CT CHEST 1.25 LUNG", phantom="ct-lung",
        frame_of_reference_uid=ct_for, params=dict(kernel="LUNG", shift=(0.0, 0.0, 0.0)), **ct_common)
    add("ct-chest-2023", "soft", 2, description="CT CHEST 1.25 SOFT", phantom="ct-soft",
        frame_of_reference_uid=demo_uid(size, "ct-chest-2023", "frame-of-reference"),
        params=dict(kernel="STANDARD", shift=PRIOR_CT_TABLE_SHIFT, prior=True), **ct_common)  # fmt: skip

    # PET/CT: a low-dose CT and an FDG PET in one frame of reference, on different grids.
    petct_for = demo_uid(size, "petct-2024", "frame-of-reference")
    ct_px = PETCT_CT_FOV_MM / s.petct_ct_matrix
    add("petct-2024", "ct", 2, description="CT AC 3.0", phantom="ct-petct",
        frame_of_reference_uid=petct_for, params=dict(kernel="STANDARD", shift=(0.0, 0.0, 0.0), petct=True),
        **dict(ct_common, rows=s.petct_ct_matrix, columns=s.petct_ct_matrix, instances=s.petct_ct_slices,
               pixel_spacing=(ct_px, ct_px), protocol_name="PET/CT FDG",
               first_position=(-PETCT_CT_FOV_MM / 2, -PETCT_CT_FOV_MM / 2, CT_FIRST_SLICE_Z),
               slice_thickness=s.petct_ct_spacing, slice_step=-s.petct_ct_spacing,
               station="PETCT01", model="Phantom PET/CT"))  # fmt: skip
    pet_px = PET_FOV_PIXEL_MM[size]
    pet_fov = pet_px * s.pet_matrix
    add("petct-2024", "pet-ac", 3, description="PET AC", phantom="pt", modality="PT",
        sop_class_uid=PositronEmissionTomographyImageStorage, protocol_name="PET/CT FDG", body_part="CHEST",
        laterality="", rows=s.pet_matrix, columns=s.pet_matrix, instances=s.pet_slices, frames=1,
        pixel_spacing=(pet_px, pet_px), orientation=axial, frame_of_reference_uid=petct_for,
        first_position=(-pet_fov / 2 + pet_px / 2, -pet_fov / 2 + pet_px / 2, PET_FIRST_SLICE_Z[size]),
        slice_thickness=s.pet_spacing, slice_step=-s.pet_spacing, station="PETCT01",
        model="Phantom PET/CT")  # fmt: skip

    # Chest radiographs.
    dx_px = DX_FIELD_MM / s.dx_matrix
    dx_common = dict(
        modality="DX", sop_class_uid=DigitalXRayImageStorageForPresentation, body_part="CHEST",
        laterality="", protocol_name="XR CHEST", rows=s.dx_matrix, columns=s.dx_matrix, instances=1,
        frames=1, pixel_spacing=(dx_px, dx_px), station="DR01", model="Phantom DR",
    )  # fmt: skip
    add("dx-chest-2024", "pa", 1, description="CHEST PA", phantom="dx-pa",
        params=dict(view="PA", orientation=("L", "F")), **dx_common)
    add("dx-chest-2024", "lateral", 2, description="CHEST LATERAL", phantom="dx-ll",
        params=dict(view="LL", orientation=("P", "F")), **dx_common)
    add("dx-chest-2023", "pa", 1, description="CHEST PA", phantom="dx-pa",
        params=dict(view="PA", orientation=("L", "F"), prior=True), **dx_common)

    # MR brain: three axial contrasts and a sagittal T1 in one frame of reference.
    mr_for = demo_uid(size, "mr-brain-2024", "frame-of-reference")
    ax_px = MR_AXIAL_FOV_MM / s.mr_matrix
    sag_px = MR_SAGITTAL_FOV_MM / s.mr_matrix
    mr_common = dict(
        modality="MR", sop_class_uid=MRImageStorage, body_part="HEAD", laterality="",
        rows=s.mr_matrix, columns=s.mr_matrix, frames=1, frame_of_reference_uid=mr_for,
        station="MR01", model="Phantom MR 1.5T",
    )  # fmt: skip
    # Sagittal slices straddle the midline (none on it) from the patient's right.
    sag_first_x = -s.mr_sagittal_spacing * (s.mr_sagittal_slices - 1) / 2
    add("mr-brain-2024", "t1-sag", 2, description="T1 SAG", protocol_name="BRAIN T1 SAG", phantom="mr-t1",
        instances=s.mr_sagittal_slices, pixel_spacing=(sag_px, sag_px),
        orientation=(0.0, 1.0, 0.0, 0.0, 0.0, -1.0),
        first_position=(sag_first_x, -MR_SAGITTAL_FOV_MM / 2, 10.0 + MR_SAGITTAL_FOV_MM / 2),
        slice_thickness=s.mr_sagittal_spacing, slice_step=-s.mr_sagittal_spacing, params=dict(sequence="T1"),
        **mr_common)  # fmt: skip
    mr_axial = dict(
        instances=s.mr_axial_slices, pixel_spacing=(ax_px, ax_px), orientation=axial,
        first_position=(-MR_AXIAL_FOV_MM / 2, -MR_AXIAL_FOV_MM / 2, -55.0),
        slice_thickness=s.mr_axial_spacing, slice_step=s.mr_axial_spacing,
    )  # fmt: skip
    for number, seq in ((3, "T2"), (4, "FLAIR"), (5, "T1")):
        add("mr-brain-2024", f"{seq.lower()}-ax", number, description=f"{seq} AX",
            protocol_name=f"BRAIN {seq} AX", phantom=f"mr-{seq.lower()}", params=dict(sequence=seq),
            **mr_axial, **mr_common)  # fmt: skip
    # The prior MR a year earlier: the same head placed alike (same slice positions), one lesion 2 mm smaller.
    mr_prior = dict(mr_common, frame_of_reference_uid=demo_uid(size, "mr-brain-2023", "frame-of-reference"))
    for number, seq in ((3, "T2"), (4, "FLAIR"), (5, "T1")):
        add("mr-brain-2023", f"{seq.lower()}-ax", number, description=f"{seq} AX",
            protocol_name=f"BRAIN {seq} AX", phantom=f"mr-{seq.lower()}", params=dict(sequence=seq, prior=True),
            **mr_axial, **mr_prior)  # fmt: skip

    # Screening mammography: one series per view, current and prior.
    mg_px = MG_FIELD_MM / s.mg_rows
    for study_key, prior in (("mg-screening-2024", False), ("mg-screening-2023", True)):
        for number, (side, view) in enumerate((("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO")), 1):
            add(study_key, f"{side}{view}".lower(), number, description=f"{side} {view}",
                modality="MG", sop_class_uid=DigitalMammographyXRayImageStorageForPresentation,
                protocol_name="MG SCREENING", body_part="BREAST", laterality=side, rows=s.mg_rows,
                columns=s.mg_columns, instances=1, frames=1, pixel_spacing=(mg_px, mg_px),
                phantom="mg", station="MG01", model="Phantom Mammo",
                params=dict(view=view, side=side, prior=prior))  # fmt: skip

    # Carotid ultrasound cine.
    region_w = s.us_columns * 3 // 4
    region_h = s.us_rows * 10 // 12
    add("us-carotid-2024", "cine", 1, description="CAROTID R LONG CINE", protocol_name="US CAROTID",
        modality="US", sop_class_uid=UltrasoundMultiFrameImageStorage, body_part="NECK", laterality="",
        rows=s.us_rows, columns=s.us_columns, instances=1, frames=s.us_frames, pixel_spacing=(0.0, 0.0),
        phantom="us", station="US01", model="Phantom US",
        params=dict(region=(s.us_columns // 8, s.us_rows // 12, s.us_columns // 8 + region_w - 1,
                            s.us_rows // 12 + region_h - 1),
                    delta_cm=(US_REGION_CM[0] / region_w, US_REGION_CM[1] / region_h),
                    frame_time_ms=1000.0 / 30.0))  # fmt: skip
    return out
