"""Window presets per modality, on the number keys.

CT values are the widely taught ones (centre / width in HU).  Keys 1 to 9
select a modality's presets in order; 0 goes back to the image's own window.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WindowPreset:
    """A named window in modality values."""

    name: str
    center: float
    width: float

    def describe(self) -> str:
        return f"{self.name} (W {self.width:g} L {self.center:g})"


PRESETS: dict[str, tuple[WindowPreset, ...]] = {
    "CT": (
        WindowPreset("Brain", 40, 80),
        WindowPreset("Subdural", 75, 215),
        WindowPreset("Stroke", 32, 8),
        WindowPreset("Lung", -600, 1500),
        WindowPreset("Mediastinum", 50, 350),
        WindowPreset("Abdomen", 50, 400),
        WindowPreset("Liver", 30, 150),
        WindowPreset("Bone", 400, 1800),
    ),
}


def presets_for(modality: str) -> tuple[WindowPreset, ...]:
    """The presets of a modality (none for modalities without calibrated values)."""
    return PRESETS.get((modality or "").upper(), ())


def preset_for_key(modality: str, key: int) -> WindowPreset | None:
    """The preset on number key ``key`` (1 = first), or None."""
    presets = presets_for(modality)
    return presets[key - 1] if 1 <= key <= len(presets) else None
