"""Segments of a DICOM SEG as coloured surfaces in the 3D view.

Each segment's mask on the volume's grid (see
:func:`workstation.clinical.seg.segment_mask_volume`) becomes a smoothed
surface at half occupancy, drawn with the segment's colour in the volume's
patient placement (the scene's user matrix).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
from vtkmodules.vtkFiltersCore import vtkFlyingEdges3D, vtkPolyDataNormals, vtkWindowedSincPolyDataFilter
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

from workstation.model.volume import Volume
from workstation.volume3d.image_data import to_vtk_image, volume_matrix, vtk_matrix

if TYPE_CHECKING:
    from workstation.clinical.seg import SegmentationObject
    from workstation.volume3d.scene3d import VolumeScene


def segment_surface(volume: Volume, mask: np.ndarray, colour: tuple[int, int, int], smoothing: int = 15) -> vtkActor:
    """A surface actor of ``mask`` (float, 0..1, the volume's shape) in ``colour`` (0-255 RGB)."""
    image = to_vtk_image(dataclasses.replace(volume, array=np.ascontiguousarray(mask, np.float32), rescaled=True))
    edges = vtkFlyingEdges3D()
    edges.SetInputData(image)
    edges.SetValue(0, 0.5)
    edges.ComputeNormalsOff()
    smooth = vtkWindowedSincPolyDataFilter()
    smooth.SetInputConnection(edges.GetOutputPort())
    smooth.NormalizeCoordinatesOn()
    smooth.SetPassBand(0.1)
    smooth.SetNumberOfIterations(max(0, int(smoothing)))
    normals = vtkPolyDataNormals()
    normals.SetInputConnection(smooth.GetOutputPort())
    normals.SplittingOff()
    mapper = vtkPolyDataMapper()
    mapper.SetInputConnection(normals.GetOutputPort())
    mapper.ScalarVisibilityOff()
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*(c / 255.0 for c in colour))
    actor.GetProperty().SetSpecular(0.3)
    actor.SetUserMatrix(vtk_matrix(volume_matrix(volume)))
    # Keep the mask's memory alive with the actor (VTK's objects take Python attributes; its stubs do not say so).
    actor._lightbox_image = image  # type: ignore[attr-defined]
    mapper.Update()
    return actor


def add_segment_surfaces(scene: VolumeScene, seg: SegmentationObject,
                         volume: Volume | None = None) -> dict[int, vtkActor]:
    """Add a surface per visible segment of ``seg`` lying on ``volume`` (default: the scene's full volume)."""
    from workstation.clinical.seg import segment_mask_volume

    volume = volume if volume is not None else scene.source
    actors: dict[int, vtkActor] = {}
    for s in seg.segments.values():
        if not s.visible:
            continue
        mask = segment_mask_volume(seg, s.number, volume)
        if mask is None:
            continue
        actor = segment_surface(volume, mask, s.colour)
        scene.renderer.AddActor(actor)
        actors[s.number] = actor
    return actors


def patient_bounds_of(actor: vtkActor) -> np.ndarray:
    """(xmin, xmax, ymin, ymax, zmin, zmax) of an actor in patient coordinates (its user matrix applied)."""
    return np.asarray(actor.GetBounds(), float)
