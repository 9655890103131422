"""What the PET/CT fusion window shows, without Qt: CT, PET and fused planes, the SUV probe and the MIP.

The CT's planes drive the views; the PET is sampled at the same patient
positions, so the three views always show one anatomy although the grids
differ.  The PET is shown in SUV when the series carries what SUV needs, else
in its own units with the refusal message kept for the window to show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataset import Dataset

from workstation.clinical.cpr import sample
from workstation.clinical.fusion import (
    LUT_NAMES,
    colour_lut,
    fuse,
    pet_on_ct_plane,
    plane_points,
    rotating_mip,
    window_to_8bit,
)
from workstation.clinical.suv import SUVStatistics, SUVUnavailable, suv_statistics, suv_volume
from workstation.model.volume import Volume

if TYPE_CHECKING:
    from workstation.store.cache import StudyCache


@dataclass
class FusionState:
    """Settings and cached images of one PET/CT fusion display.

    Parameters
    ----------
    ct, pet : Volume
        Rescaled volumes of one frame of reference.
    pet_headers : list of pydicom.Dataset
        The PET series' headers (for SUV).
    """

    ct: Volume
    pet: Volume
    pet_headers: list[Dataset]
    method: str = "bw"
    lut: str = "hot iron"
    opacity: float = 0.5
    ct_window: tuple[float, float] = (40.0, 400.0)  # centre, width (HU)
    pet_range: tuple[float, float] = (0.0, 6.0)  # displayed SUV (or Bq/ml) from .. to
    index: int = 0
    unit: str = "SUVbw"
    refusal: str = ""
    _suv: Volume | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.ct.frame_of_reference_uid and self.pet.frame_of_reference_uid and \
                self.ct.frame_of_reference_uid != self.pet.frame_of_reference_uid:  # fmt: skip
            raise ValueError("the PET and the CT are in different frames of reference: register them first")
        self.index = self.ct.shape[0] // 2
        self.set_method(self.method)

    def set_method(self, method: str) -> None:
        """Show SUV by ``method`` (see :data:`workstation.clinical.suv.METHODS`), or Bq/ml with the refusal."""
        self.method = method
        try:
            self._suv, factor = suv_volume(self.pet, self.pet_headers, method)
            self.unit = {"bw": "SUVbw", "lbm": "SUVlbm", "lbm-james": "SUVlbm (James)", "bsa": "SUVbsa"}[method]
            self.refusal = ""
            if self.pet_range[1] > 100:
                self.pet_range = (0.0, 6.0)
        except SUVUnavailable as exc:
            self._suv = self.pet
            self.unit = str(self.pet_headers[0].get("Units", "")) if self.pet_headers else ""
            self.refusal = str(exc)
            self.pet_range = (0.0, float(np.percentile(self.pet.modality_value(self.pet.array), 99.5)) or 1.0)

    @property
    def values(self) -> Volume:
        """The PET in display units (SUV, else its own)."""
        assert self._suv is not None
        return self._suv

    def set_lut(self, name: str) -> None:
        if name not in LUT_NAMES:
            raise ValueError(f"unknown colour LUT {name!r}")
        self.lut = name

    def scroll(self, delta: int) -> None:
        self.index = int(np.clip(self.index + delta, 0, self.ct.shape[0] - 1))

    def ct_8bit(self) -> np.ndarray:
        c, w = self.ct_window
        return window_to_8bit(self.ct.modality_value(self.ct.array[self.index]), c - w / 2, c + w / 2)

    def pet_plane(self) -> np.ndarray:
        """PET values (display units) on the current CT plane."""
        return pet_on_ct_plane(self.values, self.ct, self.index)

    def pet_rgb(self) -> np.ndarray:
        rgb: np.ndarray = colour_lut(self.lut)[window_to_8bit(self.pet_plane(), *self.pet_range)]
        return rgb

    def fused_rgb(self) -> np.ndarray:
        return fuse(self.ct_8bit(), window_to_8bit(self.pet_plane(), *self.pet_range), self.lut, self.opacity,
                    threshold=2)  # fmt: skip

    def mip_rgb(self, angle_deg: float) -> np.ndarray:
        mip = rotating_mip(self.values, angle_deg)
        rgb: np.ndarray = colour_lut("grey inverted")[window_to_8bit(mip, *self.pet_range)]
        return rgb

    def point_at(self, row: float, column: float) -> np.ndarray:
        """Patient point of a (row, column) pixel of the current CT plane."""
        m = self.ct.index_to_patient()
        point: np.ndarray = m[:3, :3] @ np.array([column, row, self.index], float) + m[:3, 3]
        return point

    def probe(self, row: float, column: float) -> str:
        """The read-out at a pixel: CT HU and PET value there, and SUVpeak/max within 15 mm."""
        p = self.point_at(row, column)
        hu = float(sample(self.ct, p[None, :], fill=np.nan)[0])
        value = float(sample(self.values, p[None, :], fill=np.nan)[0])
        if np.isnan(value):
            return f"CT {hu:.0f} HU, outside the PET"
        return f"CT {hu:.0f} HU  PET {value:.2f} {self.unit}"

    def sphere_statistics(self, row: float, column: float, radius_mm: float = 15.0) -> SUVStatistics:
        """SUV statistics in a sphere around a pixel of the current plane (for the ROI read-out)."""
        p = self.values.patient_to_index(self.point_at(row, column))[::-1]
        from workstation.clinical.suv import sphere_mask

        mask = sphere_mask(self.values.shape, p, radius_mm, self.values.spacing[::-1])
        if not mask.any():
            raise ValueError("the sphere lies outside the PET")
        return suv_statistics(self.values.array, self.values.spacing[::-1], mask)

    def plane_points(self) -> np.ndarray:
        return plane_points(self.ct, self.index)


def load_petct(cache: StudyCache, study_uid: str, *, progress: Callable[[int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> FusionState:
    """Read a study's CT and attenuation-corrected PET from the cache into a :class:`FusionState`.

    The PET is the PT series with the most images whose description does not
    say it is uncorrected (NAC); the CT the CT series with the most images in
    the PET's frame of reference.

    Raises
    ------
    ValueError
        When the study has no PET or no CT in the PET's frame of reference.
    """
    import pydicom

    from workstation.model.series_volume import load_series_volume

    series = cache.series(study_uid)
    pets = [s for s in series if s.modality == "PT"]
    if not pets:
        raise ValueError("the study holds no PET series")
    corrected = [s for s in pets if not any(w in (s.description or "").upper() for w in ("NAC", "NOAC"))]
    pet_series = max(corrected or pets, key=lambda s: s.num_instances)
    cts = [s for s in series if s.modality == "CT" and s.frame_of_reference_uid == pet_series.frame_of_reference_uid]
    if not cts:
        raise ValueError("the study holds no CT in the PET's frame of reference")
    ct_series = max(cts, key=lambda s: s.num_instances)
    ct = load_series_volume(cache, ct_series.series_uid, progress=progress, cancelled=cancelled)
    pet = load_series_volume(cache, pet_series.series_uid, cancelled=cancelled)
    headers: list[Dataset] = [pydicom.dcmread(cache.path_of(r), stop_before_pixels=True)
                              for r in cache.instances(pet_series.series_uid)]
    return FusionState(ct, pet, headers)
