"""Reslicing a volume on any plane, thin or as a thick slab (MIP, MinIP, average), with vtkImageReslice.

The output lies in the plane's frame (see :class:`workstation.volume3d.planes.Plane`):
x along ``right``, y along ``up``, mm, with (0, 0) at the reference point's
projection, so it can be drawn as is in a 2D view whose world is that frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkCommonExecutionModel import vtkAlgorithmOutput
from vtkmodules.vtkImagingCore import vtkImageReslice

from workstation.model.volume import Volume
from workstation.volume3d.image_data import patient_bounds, to_vtk_image, volume_matrix, vtk_matrix
from workstation.volume3d.planes import Plane

SLAB_MODES = ("mip", "minip", "avg")
INTERPOLATIONS = ("nearest", "linear", "cubic")


@dataclass(frozen=True)
class SliceImage:
    """A resliced plane: ``array[row, column]`` with row 0 at the top of the view, and its geometry."""

    array: np.ndarray
    spacing: float  # mm per pixel, both directions
    origin_uv: tuple[float, float]  # (u, v) mm of the bottom-left pixel centre in the plane frame


class Reslicer:
    """One reslice pipeline over a volume (one per MPR view; they share the voxels).

    Parameters
    ----------
    volume : Volume
        The voxels; VTK reads them in place.
    image : vtkImageData, optional
        Image data already made from ``volume`` (to share between reslicers).
    """

    def __init__(self, volume: Volume, image: vtkImageData | None = None) -> None:
        self.volume = volume
        self.image = image if image is not None else to_vtk_image(volume)
        self._to_local = np.linalg.inv(volume_matrix(volume))
        self._corners = patient_bounds(volume)
        self.background = volume.minimum()
        self.filter = vtkImageReslice()
        self.filter.SetInputData(self.image)
        self.filter.SetOutputDimensionality(2)
        self.filter.SetBackgroundLevel(self.background)
        self.filter.AutoCropOutputOff()
        self.filter.SetInterpolationModeToLinear()
        self.pixel_spacing = float(min(volume.spacing))

    def configure(
        self,
        plane: Plane,
        reference: ArrayLike,
        *,
        size: tuple[int, int] | None = None,
        interpolation: str = "linear",
        slab_mm: float = 0.0,
        slab_mode: str = "mip",
    ) -> None:
        """Set the plane, output grid, interpolation and slab (call :meth:`update` or render after).

        Parameters
        ----------
        plane, reference
            The plane and the point whose projection is (0, 0) of its frame.
        size : (width, height), optional
            Output pixels; the whole volume is fitted in.  By default the pixel
            size is the smallest voxel spacing and the output covers the volume.
        interpolation : {"nearest", "linear", "cubic"}
        slab_mm : float
            Slab thickness; 0 (or less than a voxel) for a thin slice.
        slab_mode : {"mip", "minip", "avg"}
        """
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}")
        if slab_mode not in SLAB_MODES:
            raise ValueError(f"slab mode must be one of {', '.join(SLAB_MODES)}")
        axes = plane.axes_matrix(reference)
        self.filter.SetResliceAxes(vtk_matrix(self._to_local @ axes))
        # The volume's corners in the plane frame give the output's extent.
        rel = self._corners - axes[:3, 3]
        u, v = rel @ plane.right, rel @ plane.up
        if size is None:
            spacing = self.pixel_spacing
            nx = int(np.ceil((u.max() - u.min()) / spacing)) + 1
            ny = int(np.ceil((v.max() - v.min()) / spacing)) + 1
            u0, v0 = u.min(), v.min()
        else:
            nx, ny = int(size[0]), int(size[1])
            spacing = max((u.max() - u.min()) / max(nx - 1, 1), (v.max() - v.min()) / max(ny - 1, 1), 1e-6)
            u0 = (u.max() + u.min()) / 2 - spacing * (nx - 1) / 2
            v0 = (v.max() + v.min()) / 2 - spacing * (ny - 1) / 2
        self.output_spacing = float(spacing)
        self.filter.SetOutputSpacing(spacing, spacing, self.pixel_spacing)
        self.filter.SetOutputOrigin(float(u0), float(v0), 0.0)
        self.filter.SetOutputExtent(0, nx - 1, 0, ny - 1, 0, 0)
        {"nearest": self.filter.SetInterpolationModeToNearestNeighbor,
         "linear": self.filter.SetInterpolationModeToLinear,
         "cubic": self.filter.SetInterpolationModeToCubic}[interpolation]()
        slices = max(1, int(round(slab_mm / self.pixel_spacing))) if slab_mm > 0 else 1
        # An odd number of samples puts one on the plane itself, so a MIP (MinIP) is never below
        # (above) the thin slice it contains.
        slices += 1 - slices % 2
        self.filter.SetSlabNumberOfSlices(slices)
        # VTK's shortcut for axis-aligned planes samples a slab's planes elsewhere than the thin
        # slice's (a 10 mm MIP came out darker than the slice it contains by hundreds of HU); the
        # general path samples each plane as a thin slice would.
        self.filter.SetOptimization(slices == 1)
        {"mip": self.filter.SetSlabModeToMax, "minip": self.filter.SetSlabModeToMin,
         "avg": self.filter.SetSlabModeToMean}[slab_mode]()

    def update(self) -> SliceImage:
        """Run the reslice and return the plane as an array (row 0 at the top)."""
        self.filter.Update()
        out = self.filter.GetOutput()
        nx, ny, _ = out.GetDimensions()
        arr = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(ny, nx)[::-1]
        ox, oy, _ = out.GetOrigin()
        return SliceImage(np.ascontiguousarray(arr), self.output_spacing, (ox, oy))

    def output_port(self) -> vtkAlgorithmOutput:
        return self.filter.GetOutputPort()


def window_to_uint8(array: np.ndarray, center: float, width: float) -> np.ndarray:
    """The standard's LINEAR VOI window applied to values, to 8-bit grey."""
    width = max(float(width), 1.0)
    lo = center - 0.5 - (width - 1) / 2
    scaled = (np.asarray(array, np.float32) - lo) / (width - 1) * 255.0
    grey: np.ndarray = np.clip(scaled, 0, 255).astype(np.uint8)
    return grey
