"""P-value → DDL tables: the GSDF for a monitor's characteristic, or the identity.

:func:`gsdf_table` follows PS3.14 and the way DCMTK's ``DiGSDFLUT`` builds its
table, so that the two agree within one DDL (tests run ``dcmdspfn``):

1. the luminance range the monitor shows is ``Lmin + La`` to ``Lmax + La``
   (its smallest and largest measured luminance plus the ambient luminance
   ``La`` reflected off the screen), narrowed to a target range when one is
   set;
2. the P-values ``0..n-1`` are spread evenly over the JND indices of that
   range and each gets the GSDF luminance of its JND index;
3. each P-value gets the DDL whose luminance (plus ambient) is closest to
   that target, searching upwards as DCMTK does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation.display.characteristic import Characteristic
from workstation.display.gsdf import gsdf_luminances, jnd_index

__all__ = ["GsdfTable", "gsdf_table", "identity_table"]


@dataclass(frozen=True, eq=False)
class GsdfTable:
    """A P-value → DDL table and what it was made for.

    Attributes
    ----------
    ddl : numpy.ndarray
        uint16, one DDL per P-value.
    ddl_exact : numpy.ndarray
        float64, the DDL each P-value would need if the monitor had
        continuous levels (linear between measured DDLs): what a dither or a
        finer surface approximates.
    target : numpy.ndarray
        The GSDF luminance (cd/m², ambient included) of each P-value.
    achieved : numpy.ndarray
        The luminance (cd/m², ambient included) the chosen DDL gives.
    l_min, l_max : float
        The luminance range used (ambient included).
    ambient : float
        The ambient luminance used (cd/m²).
    levels : int
        Number of DDLs of the output (256 for 8 bits, 1024 for 10).
    """

    ddl: np.ndarray
    ddl_exact: np.ndarray
    target: np.ndarray
    achieved: np.ndarray
    l_min: float
    l_max: float
    ambient: float
    levels: int

    @property
    def jnd_range(self) -> tuple[float, float]:
        """The JND indices of :attr:`l_min` and :attr:`l_max`."""
        return float(jnd_index(self.l_min)), float(jnd_index(self.l_max))


def gsdf_table(
    characteristic: Characteristic,
    *,
    ambient: float | None = None,
    target_min: float | None = None,
    target_max: float | None = None,
    p_values: int = 256,
    levels: int | None = None,
) -> GsdfTable:
    """The GSDF P-value → DDL table of a monitor.

    Parameters
    ----------
    characteristic : Characteristic
        The monitor's luminance per DDL (without ambient light).
    ambient : float or None
        Ambient luminance (cd/m²) reflected off the screen; None takes the
        characteristic file's ``amb`` (else 0).
    target_min, target_max : float or None
        The luminance range wanted (cd/m², ambient included); each is
        limited to what the monitor can show.  None uses the monitor's own.
    p_values : int
        Number of P-values (256: the display pipeline's 8-bit output).
    levels : int or None
        Number of output DDLs; None uses the characteristic's own.  A larger
        number (1024 for a 10-bit surface) resamples the curve evenly.

    Returns
    -------
    GsdfTable

    Raises
    ------
    ValueError
        When the luminance range is empty or not positive.
    """
    amb = characteristic.ambient if ambient is None else float(ambient)
    amb = 0.0 if amb is None else amb
    if amb < 0:
        raise ValueError("ambient luminance cannot be negative")
    curve = characteristic.resampled(levels or len(characteristic.luminance)) + amb
    # The range of the measured points, as DCMTK takes it (before filling in the curve).
    l_min, l_max = characteristic.l_min + amb, characteristic.l_max + amb
    if target_min is not None:
        l_min = max(l_min, float(target_min))
    if target_max is not None:
        l_max = min(l_max, float(target_max))
    if not 0 < l_min < l_max:
        raise ValueError(
            f"no luminance range to calibrate: {l_min:.4g} to {l_max:.4g} cd/m² "
            "(a monitor needs Lmax above Lmin, and Lmin + ambient above 0)"
        )
    target = gsdf_luminances(l_min, l_max, p_values)
    ddl = _nearest_upwards(curve, target)
    # The continuous DDL: invert the rising curve where it strictly rises.
    rising = np.maximum.accumulate(curve)
    keep = np.concatenate(([True], np.diff(rising) > 0))
    exact = np.interp(target, rising[keep], np.arange(len(curve), dtype=np.float64)[keep])
    return GsdfTable(ddl, exact, target, curve[ddl], l_min, l_max, amb, len(curve))


def _nearest_upwards(curve: np.ndarray, target: np.ndarray) -> np.ndarray:
    """DCMTK's search (``DiGSDFLUT::createLUT``), step for step, so that curves that dip agree too.

    For each target (ascending) it moves up from the previous DDL while the
    luminance is below the target, then takes the DDL below when that one is
    closer.
    """
    values = curve.tolist()
    last = len(values) - 1
    out = np.empty(len(target), dtype=np.uint16)
    j = 0
    for i, t in enumerate(target.tolist()):
        while j < last and values[j] < t:
            j += 1
        if j > 0 and abs(values[j - 1] - t) < abs(values[j] - t):
            j -= 1
        out[i] = j
    return out


def identity_table(p_values: int = 256, levels: int = 256) -> np.ndarray:
    """P-value → DDL with no display function: P-values spread over the output levels.

    Used for monitors calibrated in the display itself (their hardware maps
    DDLs to the GSDF) and for monitors left uncalibrated.

    Returns
    -------
    numpy.ndarray
        float64, ``p_values`` entries from 0 to ``levels - 1``.
    """
    return np.arange(p_values, dtype=np.float64) * ((levels - 1) / (p_values - 1))
