"""A monitor's characteristic curve: luminance at each digital driving level (DDL).

Two sources:

* a DCMTK monitor characteristic file (``monitor.lut`` in DCMTK's data
  folder), read as DCMTK's ``DiDisplayFunction::readConfigFile`` does:
  ``#`` starts a comment to the end of the line; the first entry must be
  ``max N`` (the largest DDL); optional ``amb X`` (ambient luminance,
  cd/m²), ``lum X`` (illumination, for hardcopy) and ``ord N`` (0: cubic
  spline, else the order of a least-squares polynomial used to fill in the
  DDLs the file leaves out); then pairs ``DDL luminance``.  Pairs may come in
  any order; a DDL given twice keeps its last luminance; DDLs above ``max``
  are left out; negative luminances count as 0.
* a luminance range with a gamma (``L(d) = Lmin + (Lmax - Lmin) · d^γ``,
  ``d`` the DDL over its maximum); γ = 1 is DCMTK's ``--lum-range``.

Either way the curve is filled in to every DDL from 0 to ``max``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Characteristic", "CharacteristicError", "read_lut_file", "parse_lut_text", "from_range"]


class CharacteristicError(ValueError):
    """A characteristic file or range that cannot describe a monitor."""


@dataclass(frozen=True, eq=False)
class Characteristic:
    """Luminance (cd/m², ambient light not included) at every DDL ``0..max_ddl``.

    Attributes
    ----------
    luminance : numpy.ndarray
        ``max_ddl + 1`` float64 values, indexed by DDL.
    ambient : float or None
        The ambient luminance the file gives (``amb``), None when it has none.
    source : str
        Where it came from (a file name or "range"), for messages.
    warnings : tuple of str
        What was odd but usable (e.g. luminance not ascending).
    measured : (float, float) or None
        The smallest and largest luminance among the measured points (the
        curve filled in between them may reach a little beyond); None: the
        curve's own.
    """

    luminance: np.ndarray
    ambient: float | None = None
    source: str = ""
    warnings: tuple[str, ...] = field(default=())
    measured: tuple[float, float] | None = None

    @property
    def max_ddl(self) -> int:
        """The largest digital driving level."""
        return len(self.luminance) - 1

    @property
    def l_min(self) -> float:
        """The smallest measured luminance (cd/m², no ambient): where the GSDF range starts, as in DCMTK."""
        return self.measured[0] if self.measured is not None else float(self.luminance.min())

    @property
    def l_max(self) -> float:
        """The largest measured luminance (cd/m², no ambient): where the GSDF range ends."""
        return self.measured[1] if self.measured is not None else float(self.luminance.max())

    def resampled(self, levels: int) -> np.ndarray:
        """Luminance at ``levels`` drive levels spread evenly over the same range.

        A curve measured at 8 bits drives a 10-bit surface this way: level
        ``k`` of ``levels`` sits at DDL ``k · max_ddl / (levels - 1)`` of the
        measured curve (linear interpolation between measured DDLs).

        Parameters
        ----------
        levels : int
            Number of output levels (1024 for 10 bits).

        Returns
        -------
        numpy.ndarray
            ``levels`` float64 luminances.
        """
        if levels == len(self.luminance):
            return self.luminance
        x = np.linspace(0.0, float(self.max_ddl), levels)
        resampled: np.ndarray = np.interp(x, np.arange(len(self.luminance), dtype=np.float64), self.luminance)
        return resampled


_TOKEN = re.compile(r"\S+")


def parse_lut_text(text: str, source: str = "") -> Characteristic:
    """Read the text of a DCMTK monitor characteristic file.

    Parameters
    ----------
    text : str
        The file's contents.
    source : str
        A name for messages.

    Returns
    -------
    Characteristic

    Raises
    ------
    CharacteristicError
        When ``max`` is missing or not positive, a keyword's value is not a
        number, or there are no luminance values.
    """
    name = source or "characteristic file"
    tokens: list[str] = []
    for line in text.splitlines():
        tokens.extend(_TOKEN.findall(line.split("#", 1)[0]))
    if not tokens or tokens[0] != "max":
        raise CharacteristicError(f"{name}: the first entry must be 'max' and the largest DDL")
    values: dict[int, float] = {}
    ambient: float | None = None
    order = 0
    warnings: list[str] = []
    max_ddl = 0
    i = 0

    def number(at: int, what: str) -> float:
        try:
            return float(tokens[at])
        except (IndexError, ValueError):
            raise CharacteristicError(f"{name}: '{what}' needs a number") from None

    while i < len(tokens):
        word = tokens[i]
        if word == "max":
            if max_ddl:
                raise CharacteristicError(f"{name}: 'max' given twice")
            value = number(i + 1, "max")
            if value != int(value) or not 0 < value <= 65535:
                raise CharacteristicError(f"{name}: 'max' must be a whole number from 1 to 65535")
            max_ddl = int(value)
            i += 2
        elif word == "amb":
            ambient = number(i + 1, "amb")
            if ambient < 0:
                warnings.append("negative ambient light ignored")
                ambient = None
            i += 2
        elif word == "lum":  # illumination: used for hardcopy devices only
            number(i + 1, "lum")
            i += 2
        elif word == "ord":
            order = int(number(i + 1, "ord"))
            if order < 0:
                warnings.append("negative polynomial order ignored")
                order = 0
            i += 2
        else:
            ddl = number(i, "DDL")
            if i + 1 >= len(tokens):
                warnings.append("missing luminance after the last DDL ignored")
                break
            lum = number(i + 1, "luminance")
            if ddl != int(ddl) or ddl < 0:
                raise CharacteristicError(f"{name}: DDL {tokens[i]} is not a whole number")
            if ddl > max_ddl:
                warnings.append(f"DDL {int(ddl)} above max {max_ddl} ignored")
            else:
                values[int(ddl)] = max(lum, 0.0)
            i += 2
    if not values:
        raise CharacteristicError(f"{name}: no luminance values")
    ddls = np.array(sorted(values), dtype=np.float64)
    lums = np.array([values[int(d)] for d in ddls], dtype=np.float64)
    if np.any(np.diff(lums) < 0):
        warnings.append("luminance does not ascend with the DDL")
    return Characteristic(_fill(ddls, lums, max_ddl, order), ambient, source, tuple(warnings),
                          (float(lums.min()), float(lums.max())))


def read_lut_file(path: str | Path) -> Characteristic:
    """Read a DCMTK monitor characteristic file (see :func:`parse_lut_text`).

    Raises
    ------
    CharacteristicError
        When the file cannot be read or does not describe a monitor.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise CharacteristicError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    return parse_lut_text(text, path.name)


def from_range(l_min: float, l_max: float, levels: int = 256, gamma: float = 1.0) -> Characteristic:
    """A characteristic from the darkest and brightest luminance and a gamma.

    Parameters
    ----------
    l_min, l_max : float
        Luminance at DDL 0 and at the largest DDL (cd/m², no ambient),
        ``0 <= l_min < l_max``.
    levels : int
        Number of DDLs (256 for 8 bits).
    gamma : float
        Exponent of the curve; 1 is linear (DCMTK's ``--lum-range``), 2.2 a
        typical uncalibrated monitor.

    Returns
    -------
    Characteristic
    """
    if not (0 <= l_min < l_max) or not np.isfinite(l_max):
        raise CharacteristicError(f"luminance range must satisfy 0 <= Lmin < Lmax (got {l_min:g} to {l_max:g})")
    if not 2 <= levels <= 65536:
        raise CharacteristicError("the number of DDLs must be from 2 to 65536")
    if not 0.1 <= gamma <= 10:
        raise CharacteristicError(f"gamma must be from 0.1 to 10 (got {gamma:g})")
    d = np.arange(levels, dtype=np.float64) / (levels - 1)
    return Characteristic(l_min + (l_max - l_min) * d ** gamma, None, "range")


def _fill(ddl: np.ndarray, lum: np.ndarray, max_ddl: int, order: int) -> np.ndarray:
    """The luminance at every DDL 0..max_ddl from the measured points (as DCMTK fills them in)."""
    if len(ddl) == max_ddl + 1:
        return lum
    x = np.arange(max_ddl + 1, dtype=np.float64)
    if len(ddl) == 1:
        return np.full(max_ddl + 1, lum[0])
    if order > 0:
        coefficients = np.polyfit(ddl, lum, min(order, len(ddl) - 1))
        return np.polyval(coefficients, x)
    return natural_cubic_spline(ddl, lum, x)


def natural_cubic_spline(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Natural cubic spline through ``(x, y)`` evaluated at ``at`` (second derivative 0 at both ends).

    Outside ``x`` the end intervals' cubics are extended, as DCMTK's spline does.
    """
    n = len(x)
    if n < 3:
        linear: np.ndarray = np.interp(at, x, y)
        return linear
    h = np.diff(x)
    # Tridiagonal system for the second derivatives m[1..n-2] (m[0] = m[n-1] = 0).
    rhs = 6.0 * (np.diff(y[1:]) / h[1:] - np.diff(y[:-1]) / h[:-1])
    diag = 2.0 * (h[:-1] + h[1:])
    off = h[1:-1]
    m_inner = _solve_tridiagonal(off, diag, off, rhs)
    m = np.concatenate(([0.0], m_inner, [0.0]))
    k = np.clip(np.searchsorted(x, at, side="right") - 1, 0, n - 2)
    hk = h[k]
    a = (x[k + 1] - at) / hk
    b = (at - x[k]) / hk
    spline: np.ndarray = a * y[k] + b * y[k + 1] + ((a ** 3 - a) * m[k] + (b ** 3 - b) * m[k + 1]) * hk * hk / 6.0
    return spline


def _solve_tridiagonal(lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    n = len(diag)
    c = np.zeros(n)
    d = np.zeros(n)
    c[0] = upper[0] / diag[0] if n > 1 else 0.0
    d[0] = rhs[0] / diag[0]
    for i in range(1, n):
        denom = diag[i] - lower[i - 1] * c[i - 1]
        c[i] = upper[i] / denom if i < n - 1 else 0.0
        d[i] = (rhs[i] - lower[i - 1] * d[i - 1]) / denom
    out = np.zeros(n)
    out[-1] = d[-1]
    for i in range(n - 2, -1, -1):
        out[i] = d[i] - c[i] * out[i + 1]
    return out
