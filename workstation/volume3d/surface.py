"""The smoothed surface pipeline shared by the isosurface and the SEG segments of the 3D view."""

from __future__ import annotations

from typing import Any

from vtkmodules.vtkFiltersCore import vtkFlyingEdges3D, vtkPolyDataNormals, vtkWindowedSincPolyDataFilter
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper


def smoothed_surface(image: Any, rgb: tuple[float, float, float],
                     user_matrix: Any) -> tuple[vtkFlyingEdges3D, vtkWindowedSincPolyDataFilter, vtkActor]:
    """Flying edges -> windowed sinc smoothing -> normals -> an actor in ``rgb`` (0..1) placed by ``user_matrix``.

    The contour value and the number of smoothing iterations are left to the caller (returned filters).
    """
    edges = vtkFlyingEdges3D()
    edges.SetInputData(image)
    edges.ComputeNormalsOff()
    smooth = vtkWindowedSincPolyDataFilter()
    smooth.SetInputConnection(edges.GetOutputPort())
    smooth.NormalizeCoordinatesOn()
    smooth.SetPassBand(0.1)
    normals = vtkPolyDataNormals()
    normals.SetInputConnection(smooth.GetOutputPort())
    normals.SplittingOff()
    mapper = vtkPolyDataMapper()
    mapper.SetInputConnection(normals.GetOutputPort())
    mapper.ScalarVisibilityOff()
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*rgb)
    actor.GetProperty().SetSpecular(0.3)
    actor.SetUserMatrix(user_matrix)
    return edges, smooth, actor
