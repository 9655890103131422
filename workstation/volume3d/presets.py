"""Volume rendering presets: transfer functions and shading, stored as JSON in resources/vr_presets.

A preset holds a scalar opacity curve ``[[value, opacity], ...]``, a colour
curve ``[[value, r, g, b], ...]``, an optional gradient opacity curve, the blend
mode (composite, mip, minip) and shading.  Values are modality values (HU for
CT); presets with ``"scale": "relative"`` (MR, whose values have no fixed unit)
give them as fractions of the volume's 1st to 99th percentile range.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PRESETS_DIR = Path(__file__).resolve().parents[2] / "resources" / "vr_presets"
BLEND_MODES = ("composite", "mip", "minip")


class PresetError(ValueError):
    """A preset file is missing or malformed (the message names the file and the field)."""


@dataclass
class Shading:
    on: bool = True
    ambient: float = 0.2
    diffuse: float = 0.9
    specular: float = 0.3
    specular_power: float = 15.0


@dataclass
class VrPreset:
    """One volume rendering preset (see the module notes)."""

    name: str
    label: str
    blend: str = "composite"
    opacity: list[list[float]] = field(default_factory=list)
    colour: list[list[float]] = field(default_factory=list)
    gradient_opacity: list[list[float]] = field(default_factory=list)
    shading: Shading = field(default_factory=Shading)
    modality: str = ""
    scale: str = "absolute"
    window: list[float] | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "preset") -> VrPreset:
        try:
            p = cls(
                name=str(d["name"]), label=str(d.get("label", d["name"])), blend=str(d.get("blend", "composite")),
                opacity=[[float(v) for v in pt] for pt in d["opacity"]],
                colour=[[float(v) for v in pt] for pt in d["colour"]],
                gradient_opacity=[[float(v) for v in pt] for pt in d.get("gradient_opacity", [])],
                shading=Shading(**d.get("shading", {})), modality=str(d.get("modality", "")),
                scale=str(d.get("scale", "absolute")), window=d.get("window"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PresetError(f"{source}: malformed preset ({exc})") from None
        if p.blend not in BLEND_MODES:
            raise PresetError(f"{source}: blend must be one of {', '.join(BLEND_MODES)}")
        if not p.opacity or any(len(pt) != 2 for pt in p.opacity):
            raise PresetError(f"{source}: opacity needs [value, opacity] points")
        if not p.colour or any(len(pt) != 4 for pt in p.colour):
            raise PresetError(f"{source}: colour needs [value, r, g, b] points")
        return p

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = copy.deepcopy(self.__dict__)
        d["shading"] = dict(self.shading.__dict__)
        return d

    def scaled(self, values: np.ndarray | None = None) -> VrPreset:
        """The preset in the volume's values: relative presets mapped onto its 1st-99th percentile range."""
        if self.scale != "relative" or values is None:
            return self
        sample = values.reshape(-1)[:: max(1, values.size // 200_000)]
        lo, hi = (float(x) for x in np.percentile(sample, [1, 99.5]))
        span = (hi - lo) or 1.0
        out = copy.deepcopy(self)
        out.scale = "absolute"
        for curve in (out.opacity, out.colour):
            for pt in curve:
                pt[0] = lo + pt[0] * span
        return out


def preset_names(folder: Path = PRESETS_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.json"))


def load_preset(name: str, folder: Path = PRESETS_DIR) -> VrPreset:
    """Read preset ``name`` (file ``<name>.json``)."""
    path = folder / f"{name}.json"
    if not path.is_file():
        raise PresetError(f"no volume rendering preset {name!r}: choose one of {', '.join(preset_names(folder))}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PresetError(f"{path.name}: {exc}") from None
    return VrPreset.from_dict(data, path.name)


def default_preset(modality: str) -> str:
    """The preset a new 3D view of ``modality`` starts with.

    PET and nuclear medicine get a MIP scaled to the volume's own values (the
    plain "mip" preset is in CT numbers: every voxel of a PET above 400 Bq/ml
    or SUV units drew white, the whole body one block).
    """
    return {"CT": "ct-soft-tissue", "MR": "mr-default", "PT": "pet-mip", "NM": "pet-mip"}.get(modality.upper(), "mip")
