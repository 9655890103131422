"""What a hanging protocol asks of an MPR or 3D viewport, as plain data.

A protocol's viewport entry such as ``{"type": "mpr", "plane": "coronal", "slab_mm": 10,
"slab_mode": "mip"}`` or ``{"type": "3d", "preset": "ct-bone", "azimuth": 30}`` becomes a
:class:`VolumeViewportSpec`; :func:`workstation.ui.volume_workspace.volume_viewport`
builds the widget for it over a loaded volume (MPR viewports of one volume share
one crosshair).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

from workstation.volume3d.planes import PLANE_NAMES

VIEWPORT_TYPES = ("mpr", "3d")
SLAB_MODES = ("mip", "minip", "avg")


@dataclass(frozen=True)
class VolumeViewportSpec:
    """An MPR viewport (``plane``, optional slab) or a 3D viewport (``preset``, camera turn)."""

    type: str
    plane: str = "axial"
    slab_mm: float = 0.0
    slab_mode: str = "mip"
    preset: str | None = None
    azimuth: float = 0.0
    elevation: float = 0.0

    def __post_init__(self) -> None:
        if self.type not in VIEWPORT_TYPES:
            raise ValueError(f"viewport type must be one of {', '.join(VIEWPORT_TYPES)}, not {self.type!r}")
        if self.plane not in PLANE_NAMES:
            raise ValueError(f"MPR plane must be one of {', '.join(PLANE_NAMES)}, not {self.plane!r}")
        if self.slab_mode not in SLAB_MODES:
            raise ValueError(f"slab mode must be one of {', '.join(SLAB_MODES)}, not {self.slab_mode!r}")
        if self.slab_mm < 0:
            raise ValueError("slab thickness cannot be negative")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VolumeViewportSpec:
        """From a protocol's viewport entry; unknown keys are refused so typos do not pass silently."""
        known = {"type", "plane", "slab_mm", "slab_mode", "preset", "azimuth", "elevation"}
        extra = set(d) - known
        if extra:
            raise ValueError(f"unknown viewport keys: {', '.join(sorted(extra))}")
        if "type" not in d:
            raise ValueError("a volume viewport needs a type (mpr or 3d)")
        try:
            return cls(
                type=str(d["type"]).lower(), plane=str(d.get("plane", "axial")).lower(),
                slab_mm=float(d.get("slab_mm", 0.0)), slab_mode=str(d.get("slab_mode", "mip")).lower(),
                preset=d.get("preset"), azimuth=float(d.get("azimuth", 0.0)), elevation=float(d.get("elevation", 0.0)),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid volume viewport {dict(d)}: {exc}") from None
