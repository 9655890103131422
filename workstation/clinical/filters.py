"""Image filters on the displayed image: smoothing, sharpening, edge enhancement, noise reduction.

Filters never touch the stored pixels: they take the modality values of the
plane a viewport shows and return a filtered copy, so turning a filter off
shows the original again.  A viewport remembers its :class:`FilterSpec`.
Presentation states (GSPS) have no attribute for a spatial filter; a filter
stays a reading-time setting (see :func:`presentation_note`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # SimpleITK is loaded only when a filter is applied
    import SimpleITK as sitk

KINDS = ("none", "smooth", "sharpen", "edge", "denoise")
LABELS = {
    "none": "No filter",
    "smooth": "Smoothing (Gaussian)",
    "sharpen": "Sharpening (unsharp mask)",
    "edge": "Edge enhancement",
    "denoise": "Noise reduction (anisotropic diffusion)",
}


@dataclass(frozen=True)
class FilterSpec:
    """Which filter a viewport applies and how strongly.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    strength : float
        Gaussian sigma in mm for smoothing and the blur of the unsharp mask;
        amount for edge enhancement; conductance for noise reduction.
    """

    kind: str = "none"
    strength: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown filter {self.kind!r}; expected one of {KINDS}")
        if not (self.strength > 0):
            raise ValueError("the filter strength must be positive")


def _image(values: np.ndarray, spacing: Sequence[float]) -> sitk.Image:
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.asarray(values, np.float32))
    image.SetSpacing([float(spacing[1]), float(spacing[0])])
    return image


def apply_filter(values: np.ndarray, spacing: Sequence[float] = (1.0, 1.0),
                 spec: FilterSpec = FilterSpec()) -> np.ndarray:
    """The filtered copy of one plane (float32 modality values; the input is never changed).

    Parameters
    ----------
    values : numpy.ndarray
        (rows, columns) modality values.
    spacing : tuple of float
        (row, column) pixel spacing in mm, so a sigma in mm means the same on every matrix.
    spec : FilterSpec
    """
    import SimpleITK as sitk

    values = np.asarray(values, np.float32)
    if spec.kind == "none":
        return values.copy()
    image = _image(values, spacing)
    if spec.kind == "smooth":
        out = sitk.SmoothingRecursiveGaussian(image, spec.strength)
    elif spec.kind == "sharpen":
        out = sitk.UnsharpMask(image, [spec.strength, spec.strength], 1.0, 0.0)
    elif spec.kind == "edge":
        # Subtract a fraction of the Laplacian of a lightly smoothed image: edges gain contrast, flat areas stay.
        lap = sitk.LaplacianRecursiveGaussian(image, float(min(spacing)))
        out = image - lap * float(spec.strength) * float(min(spacing)) ** 2
    else:
        steps = 5
        out = sitk.CurvatureAnisotropicDiffusion(image, timeStep=0.0625 * float(min(spacing)),
                                                 conductanceParameter=spec.strength * 3.0,
                                                 numberOfIterations=steps)  # fmt: skip
    return sitk.GetArrayFromImage(out).astype(np.float32)


def presentation_note(spec: FilterSpec) -> str:
    """What a saved presentation state says about the filter (GSPS cannot carry one)."""
    if spec.kind == "none":
        return ""
    return f"{LABELS[spec.kind]} was shown while reading; presentation states do not store spatial filters."
