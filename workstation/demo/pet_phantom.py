"""FDG-like PET of the demo chest phantom, for the demo PET/CT study.

The uptake follows the CT phantom's tissues (lung, fat, soft tissue, blood,
liver, bone) as a smooth background with noise, plus uniform noise-free
lesions of known activity concentration (:data:`PET_LESIONS`).  The injected
activity, its time and the patient's weight and height are fixed
(:data:`PET_ACQUISITION`), so every lesion's SUV is known exactly for body
weight, lean body mass and body surface area.

Geometry differs from the CT of the same study on purpose (matrix, pixel
size, slice positions), as on real PET/CT scanners: fusion must resample in
patient space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataset import Dataset

from workstation.demo.canvas import box_blur3
from workstation.demo.phantoms import Sphere, chest_slice

if TYPE_CHECKING:  # the plan imports the phantoms: only its type is needed here
    from workstation.demo.plan import SeriesPlan


@dataclass(frozen=True)
class PETAcquisition:
    """The known facts of the demo PET: dose, timing and the patient's body size."""

    injected_dose_bq: float = 370.0e6
    half_life_s: float = 6586.2  # fluorine-18 (PS3.16 CID 4020 value, as scanners write it)
    uptake_s: float = 3600.0  # injection to the start of the PET series
    weight_kg: float = 80.0
    height_m: float = 1.78
    sex: str = "M"

    @property
    def decayed_dose_bq(self) -> float:
        """Injected activity decayed to the series start (the reference of Decay Correction START)."""
        return self.injected_dose_bq * math.exp(-math.log(2.0) * self.uptake_s / self.half_life_s)


PET_ACQUISITION = PETAcquisition()


@dataclass(frozen=True)
class PETLesion:
    """A uniform FDG-avid lesion: centre (patient mm), diameter and activity concentration (Bq/ml)."""

    centre_mm: tuple[float, float, float]
    diameter_mm: float
    activity_bqml: float
    label: str = ""

    @property
    def radius_mm(self) -> float:
        return self.diameter_mm / 2.0

    def suv_bw(self, acquisition: PETAcquisition = PET_ACQUISITION) -> float:
        """Body-weight SUV of the lesion (g/ml)."""
        return self.activity_bqml * acquisition.weight_kg * 1000.0 / acquisition.decayed_dose_bq


# Radii of at least 10 mm: every lesion holds a voxel centre on both demo sizes' PET grids
# (10 mm voxels in the small demo), so its SUVmax is its own concentration, exactly.
PET_LESIONS: list[PETLesion] = [
    PETLesion((-70.0, 20.0, -180.0), 24.0, 30000.0, "mass, right lower lobe"),
    PETLesion((-15.0, 45.0, -140.0), 20.0, 18000.0, "lymph node, subcarinal"),
    PETLesion((-50.0, 0.0, -245.0), 30.0, 42000.0, "metastasis, liver"),
]
"""Known lesions of the demo PET (patient coordinates of the PET/CT frame of reference)."""

CT_LESION_HU = 40
"""The lesions as the PET/CT's CT shows them: soft-tissue spheres."""


def petct_ct_spheres() -> list[Sphere]:
    """The PET lesions drawn into the CT of the PET/CT study."""
    return [Sphere(les.centre_mm, les.diameter_mm, CT_LESION_HU, les.label) for les in PET_LESIONS]


# Background uptake in SUV (body weight) by CT tissue class: (upper HU bound, SUV).
_UPTAKE_BY_HU = [
    (-950.0, 0.0),  # air
    (-400.0, 0.35),  # lung
    (-30.0, 0.45),  # fat
    (80.0, 0.9),  # muscle, soft tissue
    (100.0, 3.2),  # myocardium (FDG-avid)
    (150.0, 2.1),  # liver, spleen
    (260.0, 1.7),  # blood pool
    (1e9, 0.7),  # bone
]


def _uptake_suv(hu: np.ndarray) -> np.ndarray:
    bounds = np.array([b for b, _ in _UPTAKE_BY_HU])
    values = np.array([v for _, v in _UPTAKE_BY_HU], dtype=np.float32)
    return values[np.searchsorted(bounds, hu)]


def pet_slice(
    xs: np.ndarray,
    ys: np.ndarray,
    z: float,
    rng: np.random.Generator,
    acquisition: PETAcquisition = PET_ACQUISITION,
) -> np.ndarray:
    """Activity concentration (Bq/ml, float32) of one axial PET plane.

    Parameters
    ----------
    xs, ys : numpy.ndarray
        Patient x of each column and y of each row (mm).
    z : float
        Patient z of the plane (mm).
    rng : numpy.random.Generator
        Noise source (seeded by the caller for reproducible output).
    """
    hu, _ = chest_slice(xs, ys, z, table=False)
    suv = box_blur3(_uptake_suv(hu))
    suv = suv * (1.0 + 0.08 * rng.standard_normal(suv.shape).astype(np.float32))
    to_bqml = acquisition.decayed_dose_bq / (acquisition.weight_kg * 1000.0)
    activity = np.clip(suv, 0.0, None) * np.float32(to_bqml)
    X, Y = np.asarray(xs, np.float32)[None, :], np.asarray(ys, np.float32)[:, None]
    for les in PET_LESIONS:
        dz = z - les.centre_mm[2]
        r2 = les.radius_mm**2 - dz * dz
        if r2 < 0:
            continue
        inside = (X - les.centre_mm[0]) ** 2 + (Y - les.centre_mm[1]) ** 2 <= r2
        activity[inside] = les.activity_bqml
    out: np.ndarray = activity
    return out


PET_RESCALE_SLOPE = 1.0
"""Bq/ml per stored value: lesions of tens of kBq/ml stay exact in 16 bits."""


def _seconds_to_tm(seconds: float) -> str:
    s = int(round(seconds)) % 86400
    return f"{s // 3600:02d}{s // 60 % 60:02d}{s % 60:02d}"


def _sct(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "SCT", meaning
    return item


def pet_header(ds: Dataset, series: SeriesPlan, acquisition: PETAcquisition = PET_ACQUISITION) -> None:
    """PET Series, PET Isotope and PET Image modules of the demo PET (attenuation and decay corrected)."""
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PixelSpacing = [round(v, 6) for v in series.pixel_spacing]
    ds.ImageOrientationPatient = list(series.image_plane()[0])
    ds.SliceThickness = series.slice_thickness
    ds.SpacingBetweenSlices = abs(series.slice_step)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = series.rows, series.columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleIntercept = 0
    ds.RescaleSlope = PET_RESCALE_SLOPE
    ds.WindowCenter, ds.WindowWidth = 10000, 20000
    ds.PatientWeight = acquisition.weight_kg
    ds.PatientSize = acquisition.height_m
    # PET Series
    ds.Units = "BQML"
    ds.CountsSource = "EMISSION"
    ds.SeriesType = ["STATIC", "IMAGE"]
    ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
    ds.DecayCorrection = "START"
    ds.RandomsCorrectionMethod = "DLYD"
    ds.AttenuationCorrectionMethod = "CT-derived mu-map"
    ds.ReconstructionMethod = "OSEM 3i21s"
    ds.NumberOfSlices = series.instances
    ds.CollimatorType = "NONE"
    ds.AcquisitionStartCondition = "MANU"
    ds.AcquisitionTerminationCondition = "TIME"
    ds.AxialAcceptance = 11
    # PET Isotope
    start = int(series.time[:2]) * 3600 + int(series.time[2:4]) * 60 + int(series.time[4:6])
    injected = _seconds_to_tm(start - acquisition.uptake_s)
    rp = Dataset()
    rp.Radiopharmaceutical = "Fluorodeoxyglucose F^18^"
    rp.RadiopharmaceuticalRoute = "Intravenous route"
    rp.RadiopharmaceuticalVolume = 10.0
    rp.RadiopharmaceuticalStartTime = injected
    rp.RadiopharmaceuticalStartDateTime = series.study.date + injected
    rp.RadionuclideTotalDose = acquisition.injected_dose_bq
    rp.RadionuclideHalfLife = acquisition.half_life_s
    rp.RadionuclidePositronFraction = 0.9673
    nuclide = Dataset()
    nuclide.CodeValue, nuclide.CodingSchemeDesignator, nuclide.CodeMeaning = "77004003", "SCT", "^18^Fluorine"
    rp.RadionuclideCodeSequence = [nuclide]
    drug = Dataset()
    drug.CodeValue, drug.CodingSchemeDesignator, drug.CodeMeaning = "35321007", "SCT", "Fluorodeoxyglucose F^18^"
    rp.RadiopharmaceuticalCodeSequence = [drug]
    ds.RadiopharmaceuticalInformationSequence = [rp]
    # NM/PET Patient Orientation: supine, head first.
    orientation = _sct("102538003", "recumbent")
    orientation.PatientOrientationModifierCodeSequence = [_sct("40199007", "supine")]
    ds.PatientOrientationCodeSequence = [orientation]
    ds.PatientGantryRelationshipCodeSequence = [_sct("102540008", "headfirst")]
    # PET Image (per-instance values that are the same for every slice of this static series)
    ds.FrameReferenceTime = 0.0
    ds.ActualFrameDuration = 180000
    ds.DecayFactor = 1.0
    ds.DoseCalibrationFactor = 1.0
    ds.PrimaryPromptsCountsAccumulated = 0
