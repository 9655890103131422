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
from vtkmodules.vtkRenderingCore import vtkActor

from workstation.model.volume import Volume
from workstation.volume3d.image_data import to_vtk_image, volume_matrix, vtk_matrix
from workstation.volume3d.surface import smoothed_surface

if TYPE_CHECKING:
    from workstation.clinical.seg import SegmentationObject
    from workstation.volume3d.scene3d import VolumeScene


def segment_surface(volume: Volume, mask: np.ndarray, colour: tuple[int, int, int], smoothing: int = 15) -> vtkActor:
    """A surface actor of ``mask`` (float, 0..1, the volume's shape) in ``colour`` (0-255 RGB)."""
    image = to_vtk_image(dataclasses.replace(volume, array=np.ascontiguousarray(mask, np.float32), rescaled=True))
    rgb = (colour[0] / 255.0, colour[1] / 255.0, colour[2] / 255.0)
    edges, smooth, actor = smoothed_surface(image, rgb, vtk_matrix(volume_matrix(volume)))
    edges.SetValue(0, 0.5)
    smooth.SetNumberOfIterations(max(0, int(smoothing)))
    # Keep the mask's memory alive with the actor (VTK's objects take Python attributes; its stubs do not say so).
    actor._lightbox_image = image  # type: ignore[attr-defined]
    actor.GetMapper().Update()
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
