"""Headless rendering of MPR planes and 3D views to PNG (the ``lightbox mpr`` and ``render3d`` commands, tests).

Everything here runs without Qt and without a display, in VTK's OSMesa window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from workstation.model.volume import Volume
from workstation.volume3d.mpr_scene import MprScene
from workstation.volume3d.planes import PLANE_NAMES, MprGeometry, rotate_frame
from workstation.volume3d.presets import load_preset
from workstation.volume3d.rendering import (
    capture,
    choose_mapper,
    mapper_setting,
    offscreen_window,
    renderer_string,
    write_png,
)
from workstation.volume3d.reslice import Reslicer
from workstation.volume3d.scene3d import VolumeScene


def default_window(volume: Volume) -> tuple[float, float]:
    """(centre, width): soft tissue for CT, else the 1st to 99th percentile of the voxels."""
    if volume.modality.upper() == "CT":
        return 40.0, 400.0  # modality values (HU), rescaled or not: callers map them to stored values
    a = volume.array
    sample = a.reshape(-1)[:: max(1, a.size // 200_000)].astype(np.float64)
    lo, hi = np.percentile(sample, [1, 99])
    lo, hi = volume.modality_value(lo), volume.modality_value(hi)
    return float((lo + hi) / 2), float(max(hi - lo, 1.0))


@dataclass
class MprResult:
    path: Path
    plane: str
    center: list[float]
    normal: list[float]
    right: list[float]
    up: list[float]
    window: tuple[float, float]
    mm_per_pixel: float


def render_mpr(
    volume: Volume,
    out: str | Path,
    *,
    plane: str = "axial",
    rotations: Sequence[tuple[ArrayLike, float]] = (),
    position: ArrayLike | None = None,
    slab_mm: float = 0.0,
    slab_mode: str = "mip",
    window: tuple[float, float] | None = None,
    size: tuple[int, int] = (512, 512),
    interpolation: str = "cubic",
) -> MprResult:
    """Render one MPR plane with its orientation letters and scale bar to a PNG file.

    Parameters
    ----------
    rotations : list of (axis vector, degrees)
        Applied in order to the whole frame of planes (oblique and double-oblique planes).
    position : array-like, optional
        A patient point the plane passes through (default: the volume's centre).
    window : (centre, width), optional
        In modality values (default: :func:`default_window`).
    """
    if plane not in PLANE_NAMES:
        raise ValueError(f"plane must be one of {', '.join(PLANE_NAMES)}")
    geometry = MprGeometry(volume.center() if position is None else position, reference=volume.center())
    for axis, degrees in rotations:
        rotate_frame(geometry, axis, degrees)
    window = window or default_window(volume)
    stored_window = _stored_window(volume, window)
    win = offscreen_window(*size)
    scene = MprScene(plane, Reslicer(volume))
    win.AddRenderer(scene.renderer)
    scene.show(geometry, window=stored_window, interpolation=interpolation, slab_mm=slab_mm, slab_mode=slab_mode,
               shown_window=window)
    scene.fit()
    win.Render()
    path = write_png(capture(win), out)
    p = geometry.plane(plane)
    result = MprResult(path, plane, p.center.tolist(), p.normal.tolist(), p.right.tolist(), p.up.tolist(), window,
                       scene.mm_per_pixel())
    win.Finalize()
    return result


def _stored_window(volume: Volume, window: tuple[float, float]) -> tuple[float, float]:
    """A modality-value window in the volume's stored values (what VTK sees)."""
    if volume.rescaled or volume.rescale_slope == 0:
        return window
    c, w = window
    return (c - volume.rescale_intercept) / volume.rescale_slope, w / abs(volume.rescale_slope)


@dataclass
class Render3dResult:
    path: Path
    preset: str
    mapper: str
    renderer: str
    triangles: int


def render_3d(
    volume: Volume,
    out: str | Path,
    *,
    preset: str = "ct-bone",
    azimuth: float = 0.0,
    elevation: float = 0.0,
    size: tuple[int, int] = (512, 512),
    settings_extra: Mapping[str, Any] | None = None,
    isosurface: float | None = None,
    smoothing: int = 15,
    clip_box: tuple[float, ...] | None = None,
) -> Render3dResult:
    """Render the volume (or an isosurface) from the front, turned by azimuth and elevation, to PNG.

    ``clip_box`` keeps the part inside (x0, x1, y0, y1, z0, z1), fractions of the volume's extent.
    """
    if clip_box is not None and len(clip_box) != 6:
        raise ValueError(f"a clip box has 6 fractions (x0, x1, y0, y1, z0, z1), got {len(clip_box)}")
    chosen = load_preset(preset)
    win = offscreen_window(*size)
    win.Render()  # makes the OpenGL context, so the renderer can be named
    gl = renderer_string(win)
    mapper = choose_mapper(gl, mapper_setting(settings_extra))
    scene = VolumeScene(volume, mapper=mapper)
    scene.attach(win)
    scene.apply_preset(chosen)
    triangles = 0
    if isosurface is not None:
        scene.set_volume_visible(False)
        triangles = scene.set_isosurface(isosurface, smoothing)
    if clip_box is not None:
        x0, x1, y0, y1, z0, z1 = clip_box
        scene.set_clip_box((x0, x1, y0, y1, z0, z1))
    scene.view(azimuth, elevation)
    win.Render()
    path = write_png(capture(win), out)
    win.Finalize()
    return Render3dResult(path, chosen.name, mapper, gl, triangles)
