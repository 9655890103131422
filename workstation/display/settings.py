"""Per-monitor calibration settings (the ``display`` section of the settings) and the output they make.

The section, in ``Settings.extra["display"]``::

    {"surface_bits": "auto",          # "auto" (10 where the platform offers it), 8 or 10
     "dither": false,                 # ordered dither on 8-bit surfaces
     "monitors": {                    # keyed like the window placement memory: "name@WxH"
         "DP-1@2560x2048": {"mode": "gsdf", "characteristic_file": "/path/monitor.lut",
                            "ambient": 1.0, "target_min": null, "target_max": null},
         "HDMI-1@1920x1080": {"mode": "gsdf", "l_min": 0.5, "l_max": 250, "gamma": 2.2},
         "DP-2@2048x2560": {"mode": "calibrated"}}}

``mode`` is ``"none"`` (P-values drive the screen as they are: an
uncalibrated monitor), ``"gsdf"`` (Lightbox applies the GSDF for the given
characteristic) or ``"calibrated"`` (the monitor maps DDLs to the GSDF in its
own hardware, so Lightbox sends the identity).  A monitor without an entry is
``"none"``.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workstation.display.characteristic import Characteristic, CharacteristicError, from_range, read_lut_file
from workstation.display.function import GsdfTable, gsdf_table
from workstation.display.output import ScreenOutput

__all__ = ["MODES", "MonitorCalibration", "DisplaySettings", "screen_output"]

MODES = {
    "none": "No display function",
    "gsdf": "DICOM GSDF (Lightbox applies it)",
    "calibrated": "Calibrated in the display (identity)",
}


def _optional_float(value: Any, what: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number (got {value!r})") from None
    if number != number or number < 0:
        raise ValueError(f"{what} must be zero or more (got {value!r})")
    return number


@dataclass(frozen=True)
class MonitorCalibration:
    """How one monitor is calibrated.

    Attributes
    ----------
    mode : str
        One of :data:`MODES`.
    characteristic_file : str
        A DCMTK monitor characteristic file (wins over the range when set).
    l_min, l_max, gamma : float or None
        The characteristic as a range and gamma, when there is no file
        (luminance in cd/m² without ambient).
    ambient : float or None
        Ambient luminance (cd/m²); None takes the file's (else 0).
    target_min, target_max : float or None
        The wanted luminance range (cd/m², ambient included).
    """

    mode: str = "none"
    characteristic_file: str = ""
    l_min: float | None = None
    l_max: float | None = None
    gamma: float | None = None
    ambient: float | None = None
    target_min: float | None = None
    target_max: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown display mode {self.mode!r}: one of {', '.join(MODES)}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MonitorCalibration:
        """From a settings entry, checked (a ValueError names the bad value)."""
        if not isinstance(d, dict):
            raise ValueError("a monitor's display settings must be a table")
        return cls(
            mode=str(d.get("mode", "none") or "none"),
            characteristic_file=str(d.get("characteristic_file", "") or ""),
            l_min=_optional_float(d.get("l_min"), "l_min"),
            l_max=_optional_float(d.get("l_max"), "l_max"),
            gamma=_optional_float(d.get("gamma"), "gamma"),
            ambient=_optional_float(d.get("ambient"), "ambient"),
            target_min=_optional_float(d.get("target_min"), "target_min"),
            target_max=_optional_float(d.get("target_max"), "target_max"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings entry (unset values left out)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    def characteristic(self) -> Characteristic:
        """The monitor's characteristic curve.

        Raises
        ------
        CharacteristicError
            When neither a readable file nor a luminance range is given.
        """
        if self.characteristic_file:
            return read_lut_file(Path(self.characteristic_file).expanduser())
        if self.l_min is None or self.l_max is None:
            raise CharacteristicError("the GSDF needs a characteristic file or the monitor's Lmin and Lmax")
        return from_range(self.l_min, self.l_max, 256, self.gamma or 2.2)

    def table(self, p_values: int = 256, levels: int | None = None) -> GsdfTable:
        """The GSDF table of this monitor (mode ``"gsdf"``); errors as ValueError."""
        return gsdf_table(self.characteristic(), ambient=self.ambient, target_min=self.target_min,
                          target_max=self.target_max, p_values=p_values, levels=levels)


@dataclass(frozen=True)
class DisplaySettings:
    """The whole ``display`` section."""

    surface_bits: str = "auto"
    dither: bool = False
    monitors: tuple[tuple[str, MonitorCalibration], ...] = ()

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> DisplaySettings:
        """Read the section from ``Settings.extra`` (a ValueError for a bad entry)."""
        section = extra.get("display") or {}
        if not isinstance(section, dict):
            raise ValueError("the 'display' settings must be a table")
        bits = str(section.get("surface_bits", "auto")).strip().lower()
        if bits not in ("auto", "8", "10"):
            raise ValueError(f"surface_bits must be auto, 8 or 10 (got {bits!r})")
        monitors = section.get("monitors") or {}
        if not isinstance(monitors, dict):
            raise ValueError("display.monitors must be a table keyed by monitor")
        return cls(bits, bool(section.get("dither", False)),
                   tuple(sorted((str(k), MonitorCalibration.from_dict(v)) for k, v in monitors.items())))

    def to_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``extra`` with this section in it."""
        out = copy.deepcopy(extra)
        out["display"] = {"surface_bits": self.surface_bits, "dither": self.dither,
                          "monitors": {k: v.to_dict() for k, v in self.monitors}}
        return out

    def for_monitor(self, key: str) -> MonitorCalibration:
        """The calibration of monitor ``key`` (``"none"`` when it has no entry)."""
        return dict(self.monitors).get(key, MonitorCalibration())

    def with_monitor(self, key: str, calibration: MonitorCalibration) -> DisplaySettings:
        """A copy with monitor ``key`` set to ``calibration``."""
        monitors = dict(self.monitors)
        monitors[key] = calibration
        return DisplaySettings(self.surface_bits, self.dither, tuple(sorted(monitors.items())))

    def wanted_bits(self, available: int) -> int:
        """The surface depth to use when the platform offers ``available`` bits (8 or 10).

        ``auto`` follows the platform; 8 or 10 are used as set (a 10-bit
        monitor the platform does not report, or 8 bits to save memory).
        """
        if self.surface_bits == "auto":
            return 10 if available >= 10 else 8
        return int(self.surface_bits)


def screen_output(calibration: MonitorCalibration, bits: int = 8, dither: bool = False) -> tuple[ScreenOutput, str]:
    """The output stage for a monitor, and a problem to report ("" when none).

    A GSDF that cannot be computed (unreadable file, empty range) falls back
    to no display function, with the reason returned so the viewer can say so:
    images are still shown.
    """
    depth = f"{bits}-bit" + (", dithered" if dither and bits == 8 else "")
    if calibration.mode == "calibrated":
        return ScreenOutput.identity(bits, dither, f"calibrated in the display, {depth}"), ""
    if calibration.mode == "gsdf":
        try:
            table = calibration.table(256, 1 << bits)
        except (ValueError, OSError) as exc:
            return ScreenOutput.identity(bits, dither, f"no display function, {depth}"), f"GSDF not applied: {exc}"
        return ScreenOutput.from_table(table.ddl_exact, bits, dither, f"GSDF, {depth}", table.ddl), ""
    return ScreenOutput.identity(bits, dither, f"no display function, {depth}"), ""
