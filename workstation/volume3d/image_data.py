"""A :class:`~workstation.model.volume.Volume` as VTK image data, sharing its memory.

VTK holds the voxels in the volume's own frame: origin (0, 0, 0), the volume's
spacing, no direction matrix.  :func:`volume_matrix` takes that frame to patient
coordinates; actors get it as their user matrix and reslice axes are composed
with its inverse.  This keeps every mapper and filter on the code paths that do
not need direction-matrix support, and keeps oblique and tilted stacks exact.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkCommonMath import vtkMatrix4x4

from workstation.model.volume import Volume


def to_vtk_image(volume: Volume) -> vtkImageData:
    """Image data over the volume's voxels (no copy: keep ``volume.array`` alive and unchanged)."""
    arr = volume.array
    if arr.ndim != 3:
        raise ValueError("one temporal position at a time: the array must be 3D")
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    z, y, x = arr.shape
    img = vtkImageData()
    img.SetDimensions(x, y, z)
    img.SetSpacing(*[float(s) for s in volume.spacing])
    img.SetOrigin(0.0, 0.0, 0.0)
    scalars = numpy_to_vtk(arr.reshape(-1), deep=False)
    scalars.SetName("values")
    img.GetPointData().SetScalars(scalars)
    # The VTK array borrows this memory. VTK's wrapped objects take Python attributes, which its stubs do not model.
    img._lightbox_array = arr  # type: ignore[attr-defined]
    return img


def volume_matrix(volume: Volume) -> np.ndarray:
    """4x4: the volume's own frame (mm from voxel 0 along its axes) to patient coordinates."""
    m = np.eye(4)
    m[:3, :3] = volume.direction
    m[:3, 3] = volume.origin
    return m


def vtk_matrix(m: np.ndarray) -> vtkMatrix4x4:
    out = vtkMatrix4x4()
    for i in range(4):
        for j in range(4):
            out.SetElement(i, j, float(m[i, j]))
    return out


def patient_bounds(volume: Volume) -> np.ndarray:
    """(8, 3) patient coordinates of the corners of the voxel-centre box."""
    ext = (np.array(volume.shape[::-1], float) - 1) * volume.spacing
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float) * ext
    patient: np.ndarray = corners @ volume.direction.T + volume.origin
    return patient
