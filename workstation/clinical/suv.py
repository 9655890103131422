"""Standardized uptake value (SUV) of PET images, per PS3.3 and the QIBA SUV flowchart.

SUV divides the activity concentration in a voxel by the injected activity per
unit of body size.  The body size is the weight (``bw``), the lean body mass
(``lbm``, Janmahasatian 2005, the formula QIBA recommends; James 1976 kept as
``lbm-james`` for comparison with older workstations) or the body surface area
(``bsa``, Du Bois 1916).  What the image must carry:

* Units (0054,1001) ``BQML`` (or ``CNTS`` with the Philips activity
  concentration scale factor (7053,1009), or Philips' own SUV scale factor
  (7053,1000) for body weight);
* Decay Correction (0054,1102) ``START`` (decayed to the series start) or
  ``ADMIN`` (already decayed to the injection);
* Radiopharmaceutical Information Sequence (0054,0016) with Radionuclide Total
  Dose (0018,1074), Radionuclide Half Life (0018,1075) and Radiopharmaceutical
  Start DateTime (0018,1078) or Start Time (0018,1072);
* Patient's Weight (0010,1030), and Patient's Size (0010,1020) for LBM and BSA;
  Patient's Sex (0010,0040) for LBM.

The scan start follows QIBA: Series Date/Time when it is not later than the
earliest Acquisition Date/Time, otherwise (the series was re-created after the
scan) GE's private scan date/time (0009,100D) when present, else the earliest
acquisition.  Anything missing raises :class:`SUVUnavailable` naming it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from datetime import datetime, timedelta

import numpy as np
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

if TYPE_CHECKING:
    from workstation.model.volume import Volume

METHODS = ("bw", "lbm", "lbm-james", "bsa")
"""SUV normalisations: body weight, lean body mass (Janmahasatian or James), body surface area."""

UNIT_LABELS = {"bw": "g/ml", "lbm": "g/ml", "lbm-james": "g/ml", "bsa": "cm2/ml"}

_PHILIPS_SUV_SCALE = Tag(0x7053, 0x1000)
_PHILIPS_ACTIVITY_SCALE = Tag(0x7053, 0x1009)
_PHILIPS_CREATOR = "Philips PET Private Group"
_GE_SCAN_DATETIME = Tag(0x0009, 0x100D)
_GE_CREATOR = "GEMS_PETD_01"


class SUVUnavailable(ValueError):
    """SUV cannot be computed; ``attribute`` names what is missing or unusable."""

    def __init__(self, attribute: str, reason: str) -> None:
        super().__init__(f"SUV not available: {attribute} {reason}")
        self.attribute = attribute
        self.reason = reason


@dataclass(frozen=True)
class SUVFactor:
    """Multiply rescaled PET values (Bq/ml, or the vendor's stored values) by ``factor`` to get SUV.

    Attributes
    ----------
    factor : float
        SUV per rescaled pixel value.
    method : str
        One of :data:`METHODS`.
    unit : str
        "g/ml" or "cm2/ml".
    decayed_dose_bq : float
        Injected activity decayed to the scan start (0 when the vendor factor was used).
    source : str
        Where the factor came from ("attributes", "Philips SUV scale factor", ...).
    """

    factor: float
    method: str
    unit: str
    decayed_dose_bq: float
    source: str


def lean_body_mass_kg(weight_kg: float, height_m: float, sex: str, formula: str = "janmahasatian") -> float:
    """Lean body mass in kg.

    Parameters
    ----------
    weight_kg, height_m : float
        Patient's Weight and Size.
    sex : {"M", "F"}
        Patient's Sex.
    formula : {"janmahasatian", "james"}
        Janmahasatian et al. 2005 (QIBA's choice) or James 1976.
    """
    sex = (sex or "").upper()
    if sex not in ("M", "F"):
        raise SUVUnavailable("Patient's Sex (0010,0040)", "must be M or F for lean body mass")
    if formula == "james":
        ratio = weight_kg / (height_m * 100.0)
        return 1.10 * weight_kg - 128.0 * ratio**2 if sex == "M" else 1.07 * weight_kg - 148.0 * ratio**2
    bmi = weight_kg / height_m**2
    if sex == "M":
        return 9270.0 * weight_kg / (6680.0 + 216.0 * bmi)
    return 9270.0 * weight_kg / (8780.0 + 244.0 * bmi)


def body_surface_area_m2(weight_kg: float, height_m: float) -> float:
    """Body surface area in m² (Du Bois and Du Bois 1916)."""
    bsa: float = 0.007184 * weight_kg**0.425 * (height_m * 100.0) ** 0.725
    return bsa


def _dicom_datetime(date: str, time: str) -> datetime:
    time = (time or "").strip()
    hhmmss, _, frac = time.partition(".")
    hhmmss = hhmmss.ljust(6, "0")
    base = datetime.strptime(date.strip() + hhmmss, "%Y%m%d%H%M%S")
    return base + timedelta(seconds=float("0." + frac) if frac else 0.0)


def _parse_dt(value: str) -> datetime:
    value = str(value).strip()
    # DT may carry a UTC offset; the scan times (TM) carry none, so compare as local times.
    for sign in ("+", "-"):
        if sign in value[8:]:
            value = value[: 8 + value[8:].index(sign)]
    return _dicom_datetime(value[:8], value[8:])


def _private(ds: Dataset, tag: BaseTag, creator: str) -> Any:
    """A private element whose block belongs to ``creator`` (or the tag as found when none is recorded)."""
    group, elem = tag.group, tag.element
    block = ds.get(Tag(group, elem >> 8))
    if block is not None and str(block.value).strip() != creator:
        return None
    element = ds.get(tag)
    return None if element is None else element.value


def _require(ds: Dataset, keyword: str, label: str) -> Any:
    value = ds.get(keyword)
    if value in (None, ""):
        raise SUVUnavailable(label, "is missing")
    return value


def scan_start(datasets: Sequence[Dataset]) -> datetime:
    """The series' scan start per the QIBA flowchart (see the module docstring)."""
    first = datasets[0]
    series = _dicom_datetime(
        str(_require(first, "SeriesDate", "Series Date (0008,0021)")),
        str(_require(first, "SeriesTime", "Series Time (0008,0031)")),
    )
    acquisitions = [
        _dicom_datetime(str(ds.get("AcquisitionDate") or first.SeriesDate), str(ds.AcquisitionTime))
        for ds in datasets
        if ds.get("AcquisitionTime")
    ]
    if not acquisitions or series <= min(acquisitions):
        return series
    ge = _private(first, _GE_SCAN_DATETIME, _GE_CREATOR)
    if ge:
        return _parse_dt(ge)
    return min(acquisitions)


def _radiopharmaceutical(ds: Dataset) -> Dataset:
    seq = ds.get("RadiopharmaceuticalInformationSequence")
    if not seq:
        raise SUVUnavailable("Radiopharmaceutical Information Sequence (0054,0016)", "is missing")
    item: Dataset = seq[0]
    return item


def _injection_time(ds: Dataset, rp: Dataset) -> datetime:
    if rp.get("RadiopharmaceuticalStartDateTime"):
        return _parse_dt(rp.RadiopharmaceuticalStartDateTime)
    if rp.get("RadiopharmaceuticalStartTime"):
        # No date: QIBA assumes the series date (and an injection before midnight the day before
        # would have to be recorded as a DateTime).
        date = str(_require(ds, "SeriesDate", "Series Date (0008,0021)"))
        return _dicom_datetime(date, str(rp.RadiopharmaceuticalStartTime))
    raise SUVUnavailable("Radiopharmaceutical Start DateTime (0018,1078)", "and Start Time (0018,1072) are missing")


def _size_factor(ds: Dataset, method: str) -> float:
    """Body size in g (bw, lbm) or cm² (bsa)."""
    weight = ds.get("PatientWeight")
    if weight in (None, "") or float(weight) <= 0:
        raise SUVUnavailable("Patient's Weight (0010,1030)", "is missing" if weight in (None, "") else "is zero")
    weight = float(weight)
    if method == "bw":
        return weight * 1000.0
    size = ds.get("PatientSize")
    if size in (None, "") or float(size) <= 0:
        raise SUVUnavailable("Patient's Size (0010,1020)", f"is needed for {method.upper()} SUV and is missing")
    height = float(size)
    if method == "bsa":
        return body_surface_area_m2(weight, height) * 10000.0
    formula = "james" if method == "lbm-james" else "janmahasatian"
    return lean_body_mass_kg(weight, height, str(ds.get("PatientSex", "")), formula) * 1000.0


def suv_factor(datasets: Sequence[Dataset] | Dataset, method: str = "bw") -> SUVFactor:
    """The factor turning a PET series' rescaled pixel values into SUV.

    Parameters
    ----------
    datasets : sequence of pydicom.Dataset, or one Dataset
        Headers of the series' instances (pixel data not needed); all are
        used to find the earliest acquisition time.
    method : str
        One of :data:`METHODS`.

    Returns
    -------
    SUVFactor

    Raises
    ------
    SUVUnavailable
        When an attribute the computation needs is missing or unusable; the
        message names it.
    """
    if method not in METHODS:
        raise ValueError(f"unknown SUV method {method!r}; expected one of {METHODS}")
    if isinstance(datasets, Dataset):
        datasets = [datasets]
    ds = datasets[0]
    if str(ds.get("Modality", "")) != "PT":
        raise SUVUnavailable("Modality (0008,0060)", "is not PT")
    units = str(ds.get("Units", "")).upper()
    philips_suv = _private(ds, _PHILIPS_SUV_SCALE, _PHILIPS_CREATOR)
    if units == "GML" and method == "bw":
        return SUVFactor(1.0, method, UNIT_LABELS[method], 0.0, "Units GML (already SUV)")
    if units == "CNTS" and method == "bw" and philips_suv:
        return SUVFactor(float(philips_suv), method, UNIT_LABELS[method], 0.0, "Philips SUV scale factor")
    activity_scale = 1.0
    if units == "CNTS":
        scale = _private(ds, _PHILIPS_ACTIVITY_SCALE, _PHILIPS_CREATOR)
        if not scale:
            raise SUVUnavailable("Units (0054,1001)", "is CNTS without the Philips activity concentration scale")
        activity_scale = float(scale)
    elif units != "BQML":
        raise SUVUnavailable("Units (0054,1001)", f"is {units or 'missing'}, not BQML")
    corrected = [str(v).upper() for v in (ds.get("CorrectedImage") or [])]
    if corrected and not {"ATTN", "DECY"} <= set(corrected):
        raise SUVUnavailable("Corrected Image (0028,0051)", "lacks ATTN or DECY")
    decay = str(_require(ds, "DecayCorrection", "Decay Correction (0054,1102)")).upper()
    rp = _radiopharmaceutical(ds)
    dose = rp.get("RadionuclideTotalDose")
    if dose in (None, "") or float(dose) <= 0:
        raise SUVUnavailable("Radionuclide Total Dose (0018,1074)", "is missing")
    half_life = rp.get("RadionuclideHalfLife")
    if half_life in (None, "") or float(half_life) <= 0:
        raise SUVUnavailable("Radionuclide Half Life (0018,1075)", "is missing")
    injected = _injection_time(ds, rp)
    if decay == "START":
        elapsed = (scan_start(datasets) - injected).total_seconds()
        if elapsed < 0:
            raise SUVUnavailable("Radiopharmaceutical Start DateTime (0018,1078)", "is after the scan start")
        decayed = float(dose) * math.exp(-math.log(2.0) * elapsed / float(half_life))
    elif decay == "ADMIN":
        decayed = float(dose)
    else:
        raise SUVUnavailable("Decay Correction (0054,1102)", f"is {decay}, not START or ADMIN")
    factor = activity_scale * _size_factor(ds, method) / decayed
    return SUVFactor(factor, method, UNIT_LABELS[method], decayed, "attributes")


# --- statistics in SUV -------------------------------------------------------------------------------

PEAK_VOLUME_ML = 1.0
PEAK_RADIUS_MM = (3.0 * PEAK_VOLUME_ML * 1000.0 / (4.0 * math.pi)) ** (1.0 / 3.0)  # 6.20 mm


@dataclass(frozen=True)
class SUVStatistics:
    """SUV statistics of a region (values in the method's unit)."""

    maximum: float
    peak: float
    mean: float
    voxels: int
    max_index: tuple[int, int, int]


def _sphere_kernel(spacing: Sequence[float] | np.ndarray, radius_mm: float) -> np.ndarray:
    """Voxels (z, y, x) whose centres lie in a sphere of ``radius_mm`` around the centre voxel."""
    half = [int(math.floor(radius_mm / s)) for s in spacing]
    grids = np.meshgrid(*[np.arange(-h, h + 1) * s for h, s in zip(half, spacing, strict=True)], indexing="ij")
    inside: np.ndarray = sum(g**2 for g in grids) <= radius_mm**2 + 1e-9
    return inside


def suv_statistics(
    suv: np.ndarray,
    spacing: Sequence[float] | np.ndarray,
    mask: np.ndarray | None = None,
) -> SUVStatistics:
    """SUVmax, SUVpeak (1 cm³ sphere, highest mean whose centre is in the region) and SUVmean.

    Parameters
    ----------
    suv : numpy.ndarray
        SUV volume (planes, rows, columns).
    spacing : sequence of float
        Voxel size (plane step, row spacing, column spacing) in mm.
    mask : numpy.ndarray of bool, optional
        Region of interest; the whole volume when omitted.
    """
    from scipy import ndimage

    suv = np.asarray(suv, dtype=np.float64)
    region = np.ones(suv.shape, bool) if mask is None else np.asarray(mask, bool)
    if not region.any():
        raise ValueError("the region of interest holds no voxel")
    values = suv[region]
    flat = np.where(region, suv, -np.inf)
    z, y, x = (int(i) for i in np.unravel_index(int(np.argmax(flat)), suv.shape))
    max_index = (z, y, x)
    kernel = _sphere_kernel(spacing, PEAK_RADIUS_MM)
    means = ndimage.correlate(suv, kernel.astype(np.float64) / kernel.sum(), mode="nearest")
    peak = float(means[region].max())
    return SUVStatistics(float(values.max()), peak, float(values.mean()), int(region.sum()), max_index)


def sphere_mask(shape: Sequence[int], centre_index: Iterable[float], radius_mm: float,
                spacing: Sequence[float] | np.ndarray) -> np.ndarray:
    """A spherical region of interest around ``centre_index`` (voxel coordinates z, y, x)."""
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    d2 = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, centre_index, spacing, strict=False))
    return np.asarray(d2 <= radius_mm**2)


def suv_volume(volume: Volume, headers: Sequence[Dataset], method: str = "bw") -> tuple[Volume, SUVFactor]:
    """A copy of a PET volume (modality values) in SUV, and the factor used.

    Parameters
    ----------
    volume : workstation.model.volume.Volume
        Rescaled PET volume (Bq/ml or the vendor's stored units).
    headers : sequence of pydicom.Dataset
        The series' headers (see :func:`suv_factor`).
    method : str
        One of :data:`METHODS`.

    Raises
    ------
    SUVUnavailable
        Naming the missing attribute.
    """
    import dataclasses

    factor = suv_factor(headers, method)
    array = np.asarray(volume.modality_value(volume.array), np.float32) * np.float32(factor.factor)
    return dataclasses.replace(volume, array=array, rescaled=True, rescale_slope=1.0, rescale_intercept=0.0), factor
